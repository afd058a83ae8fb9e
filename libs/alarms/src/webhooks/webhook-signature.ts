import { createHmac, timingSafeEqual } from 'node:crypto';

/** Receivers reject a signature whose timestamp is further than this from their clock (seconds). */
export const WEBHOOK_TOLERANCE_S = 300;

/** Header names of a webhook delivery (docs/webhooks.md). */
export const WEBHOOK_HEADERS = {
  eventId: 'X-AMR-Event-Id',
  eventType: 'X-AMR-Event-Type',
  signature: 'X-AMR-Signature',
} as const;

/** Hex HMAC-SHA256 of `"<t>.<body>"` under the integration's secret. */
export function webhookHmac(secret: string, timestampS: number, body: string | Buffer): string {
  return createHmac('sha256', secret).update(`${timestampS}.`).update(body).digest('hex');
}

/** The `X-AMR-Signature` value for a body sent at `timestampS`: `t=<unix seconds>,v1=<hex>`. */
export function signWebhook(secret: string, timestampS: number, body: string | Buffer): string {
  return `t=${timestampS},v1=${webhookHmac(secret, timestampS, body)}`;
}

export type WebhookVerification =
  | { readonly ok: true; readonly timestampS: number }
  | { readonly ok: false; readonly reason: 'malformed' | 'stale' | 'mismatch' };

/**
 * What a receiver does with `X-AMR-Signature`: the header parses, its timestamp is within
 * `toleranceS` of `nowS` (replay window), and one of its `v1` signatures is the HMAC of
 * `"<t>.<body>"` — compared in constant time. `body` must be the raw bytes received.
 */
export function verifyWebhookSignature(
  secret: string,
  header: string | undefined,
  body: string | Buffer,
  nowS: number,
  toleranceS = WEBHOOK_TOLERANCE_S,
): WebhookVerification {
  let timestampS: number | undefined;
  const candidates: string[] = [];
  for (const part of (header ?? '').split(',')) {
    const [key, value] = part.trim().split('=', 2);
    if (key === 't' && value && /^\d{1,12}$/.test(value)) timestampS = Number(value);
    else if (key === 'v1' && value && /^[0-9a-f]{64}$/.test(value)) candidates.push(value);
  }
  if (timestampS === undefined || candidates.length === 0) return { ok: false, reason: 'malformed' };
  if (Math.abs(nowS - timestampS) > toleranceS) return { ok: false, reason: 'stale' };
  const expected = Buffer.from(webhookHmac(secret, timestampS, body), 'hex');
  const matches = candidates.some((c) => timingSafeEqual(Buffer.from(c, 'hex'), expected));
  return matches ? { ok: true, timestampS } : { ok: false, reason: 'mismatch' };
}
