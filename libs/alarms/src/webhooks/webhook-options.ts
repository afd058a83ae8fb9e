import { randomBytes } from 'node:crypto';

/** Tuning of webhook delivery. */
export interface WebhookOptions {
  /** A receiver that has not answered within this time has failed the attempt. */
  readonly timeoutMs: number;
  /** After this many attempts without a 2xx a delivery is `failed` and is not retried. */
  readonly maxAttempts: number;
  /** Delay before retry n (n = 1, 2, …); the last one repeats until `maxAttempts`. */
  readonly retryDelaysMs: readonly number[];
  /** Each delay is multiplied by a random factor in [1 − jitter, 1 + jitter]. */
  readonly jitter: number;
  /** How often due deliveries are looked for (a new event wakes the dispatcher at once). */
  readonly pollIntervalMs: number;
  /** Requests in flight at once, at most one per integration. */
  readonly concurrency: number;
  /** Whether receivers on loopback, link-local, private and metadata addresses are allowed (webhook-address.ts). */
  readonly allowPrivate: boolean;
}

/**
 * The tuning that is no setting. The timeout, attempts, retry delays and private receivers are
 * settings (AMR_WEBHOOK_*), with their defaults in the configuration (libs/config).
 */
export const WEBHOOK_DEFAULTS: Pick<WebhookOptions, 'jitter' | 'pollIntervalMs' | 'concurrency'> = {
  jitter: 0.2,
  pollIntervalMs: 250,
  concurrency: 16,
};

/** Nest token of the effective WebhookOptions. */
export const WEBHOOK_OPTIONS = Symbol('WEBHOOK_OPTIONS');

/** Delay before the next attempt, once `attempts` attempts have failed (attempts ≥ 1). */
export function retryDelayMs(attempts: number, options: WebhookOptions, random: () => number = Math.random): number {
  const delays = options.retryDelaysMs;
  const base = delays[Math.min(attempts, delays.length) - 1] ?? 0;
  const factor = 1 + options.jitter * (2 * random() - 1);
  return Math.max(0, Math.round(base * factor));
}

/** How a failed attempt may be tried again: at once (it was interrupted), after a delay, or not at all. */
export type RetryKind = 'now' | 'backoff' | 'never';

/**
 * What follows attempt number `attempts` that failed: given up for good, or the delay before the
 * next one. An interrupted attempt is not counted against the receiver and is tried again at once.
 */
export function afterFailure(retry: RetryKind, attempts: number, options: WebhookOptions, random: () => number = Math.random): { giveUp: true } | { giveUp: false; delayMs: number } {
  if (retry === 'now') return { giveUp: false, delayMs: 0 };
  if (retry === 'never' || attempts >= options.maxAttempts) return { giveUp: true };
  return { giveUp: false, delayMs: retryDelayMs(attempts, options, random) };
}

/** A webhook signing secret: 32 random bytes, base64url (43 characters). */
export function newWebhookSecret(): string {
  return randomBytes(32).toString('base64url');
}
