import type { AmrConfig } from '@amr/config';
import type { Metrics } from '../process/metrics.js';

/** A gateway that does not answer within this time has failed that attempt. */
export const SMS_GATEWAY_TIMEOUT_MS = 5_000;
/** Waits between attempts: a text is tried six times over about a minute, then given up. */
export const SMS_RETRY_DELAYS_MS: readonly number[] = [1_000, 2_000, 5_000, 15_000, 30_000];

/** How one post fared: the gateway has the text (2xx), or not — and whether trying again can help. */
export type SmsAttempt = { sent: true } | { sent: false; retry: boolean; error: string };

/**
 * The platform's side of the SMS gateway (CONTRACT §6): `POST $AMR_SMS_GATEWAY_URL` with JSON
 * `{to, text}`, and the retry policy. A text that fails (no answer in time, a network error, 5xx,
 * 408, 429) is tried again with growing delays, a bounded number of times; a 4xx other than those
 * is not retried (the gateway refuses that text: sending it again changes nothing). The attempts
 * themselves are scheduled by the SMS outbox, in the database, so that they outlive a process.
 */
export class SmsGateway {
  constructor(
    private readonly config: AmrConfig,
    private readonly metrics: Metrics,
    private readonly delaysMs: readonly number[] = SMS_RETRY_DELAYS_MS,
  ) {}

  /** False when AMR_SMS_GATEWAY_URL is unset: nothing goes out by SMS. */
  get enabled(): boolean {
    return this.config.sms.gatewayUrl !== undefined;
  }

  /**
   * The wait before the next attempt of a text whose attempt number `attempts` (from 1) failed, or
   * undefined when that was the last one.
   */
  retryDelayMs(attempts: number): number | undefined {
    return this.delaysMs[attempts - 1];
  }

  /**
   * One post of a text (resolves, never rejects). `signal` cuts it short (a shutdown); the
   * gateway's own deadline is SMS_GATEWAY_TIMEOUT_MS.
   */
  async post(to: string, text: string, signal?: AbortSignal): Promise<SmsAttempt> {
    const url = this.config.sms.gatewayUrl;
    if (!url) return { sent: false, retry: false, error: 'AMR_SMS_GATEWAY_URL is not set' };
    const deadline = AbortSignal.timeout(SMS_GATEWAY_TIMEOUT_MS);
    try {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ to, text }),
        signal: signal ? AbortSignal.any([signal, deadline]) : deadline,
      });
      await res.body?.cancel();
      if (res.ok) return { sent: true };
      return { sent: false, retry: res.status >= 500 || res.status === 429 || res.status === 408, error: `HTTP ${res.status}` };
    } catch (err) {
      if (deadline.aborted) return { sent: false, retry: true, error: `no answer within ${SMS_GATEWAY_TIMEOUT_MS} ms` };
      return { sent: false, retry: true, error: err instanceof Error ? err.message : String(err) };
    }
  }

  /** Counts a text's fate in `amr_sms_acks_total`: sent, retried (an attempt failed, another follows) or failed (given up). */
  count(outcome: 'sent' | 'retried' | 'failed'): void {
    this.metrics.smsSent.inc({ outcome });
  }
}
