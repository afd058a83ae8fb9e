import { describe, expect, it } from '@jest/globals';
import { signWebhook, verifyWebhookSignature } from './webhook-signature.js';
import { loadConfig } from '@amr/config';
import { retryDelayMs, WEBHOOK_DEFAULTS } from './webhook-options.js';

const SECRET = 'whsec-test-0123456789';
const BODY = '{"id":"7f0c","type":"alarm.received","createdAt":"2026-09-14T10:00:00.000Z","data":{"cicId":"cic-antwerpen"}}';
const T = 1_790_000_000;

describe(signWebhook.name, () => {
  it('signs "<t>.<body>" with HMAC-SHA256 (a vector a receiver in any language can reproduce)', () => {
    // echo -n '1790000000.abc' | openssl dgst -sha256 -hmac key
    expect(signWebhook('key', T, 'abc')).toBe('t=1790000000,v1=fe1d9f5751e3c9e472ca4ea315cbcd1b8c9868488e9fb31f1bdf6f5b550b401c');
    expect(signWebhook(SECRET, T, BODY)).toMatch(/^t=1790000000,v1=[0-9a-f]{64}$/);
    expect(signWebhook(SECRET, T, BODY)).toBe(signWebhook(SECRET, T, Buffer.from(BODY)));
  });
});

describe(verifyWebhookSignature.name, () => {
  const header = signWebhook(SECRET, T, BODY);

  it('accepts the body as sent, within the replay window on either side', () => {
    expect(verifyWebhookSignature(SECRET, header, BODY, T)).toEqual({ ok: true, timestampS: T });
    expect(verifyWebhookSignature(SECRET, header, BODY, T + 300).ok).toBe(true);
    expect(verifyWebhookSignature(SECRET, header, BODY, T - 300).ok).toBe(true);
  });

  it.each([
    ['one byte of the body changed', SECRET, header, BODY.replace('antwerpen', 'antwerpeN'), T, 'mismatch'],
    ['another secret', 'other-secret', header, BODY, T, 'mismatch'],
    ['t moved (the signature covers it)', SECRET, header.replace(`t=${T}`, `t=${T + 1}`), BODY, T, 'mismatch'],
    ['older than the window', SECRET, header, BODY, T + 301, 'stale'],
    ['from the future beyond the window', SECRET, header, BODY, T - 301, 'stale'],
    ['no header', SECRET, undefined, BODY, T, 'malformed'],
    ['no v1', SECRET, `t=${T}`, BODY, T, 'malformed'],
    ['no t', SECRET, header.replace(/^t=\d+,/, ''), BODY, T, 'malformed'],
    ['v1 not hex', SECRET, `t=${T},v1=zz`, BODY, T, 'malformed'],
  ] as const)('rejects %s', (_, secret, h, body, now, reason) => {
    expect(verifyWebhookSignature(secret, h, body, now)).toEqual({ ok: false, reason });
  });

  it('accepts a header carrying several v1 signatures when one matches (secret rotation)', () => {
    const old = signWebhook('old-secret', T, BODY).split(',')[1];
    expect(verifyWebhookSignature(SECRET, `${header},${old}`, BODY, T).ok).toBe(true);
  });
});

describe(retryDelayMs.name, () => {
  it('follows 1 s, 2 s, 5 s, 15 s, 60 s, then every 5 min, within ±20 %', () => {
    const options = { ...WEBHOOK_DEFAULTS, ...loadConfig({}).webhooks };
    const at = (attempts: number, r: number) => retryDelayMs(attempts, options, () => r);
    expect([1, 2, 3, 4, 5, 6, 19].map((n) => at(n, 0.5))).toEqual([1_000, 2_000, 5_000, 15_000, 60_000, 300_000, 300_000]);
    expect(at(1, 0)).toBe(800);
    expect(at(1, 1)).toBe(1_200);
  });
});
