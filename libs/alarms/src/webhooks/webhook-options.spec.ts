import { describe, expect, it } from '@jest/globals';
import { loadConfig } from '@amr/config';
import { WEBHOOK_DEFAULTS, afterFailure, retryDelayMs, type WebhookOptions } from './webhook-options.js';

const middle = () => 0.5; // no jitter either way
/** The options the platform runs with (the configuration's defaults), with some replaced. */
const DEFAULTS: WebhookOptions = { ...WEBHOOK_DEFAULTS, ...loadConfig({}).webhooks };
const options = (o: Partial<WebhookOptions>): WebhookOptions => ({ ...DEFAULTS, ...o });

describe(retryDelayMs.name, () => {
  it('follows 1 s, 2 s, 5 s, 15 s, 60 s, then every 5 min, within ±20 %', () => {
    const at = (attempts: number, r: number) => retryDelayMs(attempts, DEFAULTS, () => r);
    expect([1, 2, 3, 4, 5, 6, 7, 19].map((n) => at(n, 0.5))).toEqual([1_000, 2_000, 5_000, 15_000, 60_000, 300_000, 300_000, 300_000]);
    expect(at(1, 0)).toBe(800);
    expect(at(1, 1)).toBe(1_200);
    expect(at(6, 0)).toBe(240_000);
    expect(at(6, 1)).toBe(360_000);
  });

  it('spreads the retries of receivers that failed together over the jitter band', () => {
    const draws = [0, 0.1, 0.25, 0.5, 0.75, 0.9, 0.999];
    const delays = draws.map((r) => retryDelayMs(2, DEFAULTS, () => r));
    expect(new Set(delays).size).toBe(draws.length);
    for (const delay of delays) {
      expect(delay).toBeGreaterThanOrEqual(1_600);
      expect(delay).toBeLessThanOrEqual(2_400);
    }
  });

  it('follows the configured delays, repeating the last, and exactly without jitter', () => {
    const custom = options({ retryDelaysMs: [10, 50], jitter: 0 });
    expect([1, 2, 3, 10].map((n) => retryDelayMs(n, custom, Math.random))).toEqual([10, 50, 50, 50]);
  });

  it('retries at once with no delays configured, and never schedules a negative delay', () => {
    expect(retryDelayMs(1, options({ retryDelaysMs: [] }), middle)).toBe(0);
    expect(retryDelayMs(1, options({ retryDelaysMs: [100], jitter: 1.5 }), () => 0)).toBe(0);
  });
});

describe(afterFailure.name, () => {
  const three = options({ maxAttempts: 3 });

  it('schedules the next attempt with the backoff of the attempts made so far', () => {
    expect(afterFailure('backoff', 1, three, middle)).toEqual({ giveUp: false, delayMs: 1_000 });
    expect(afterFailure('backoff', 2, three, middle)).toEqual({ giveUp: false, delayMs: 2_000 });
  });

  it('gives up after the last allowed attempt', () => {
    expect(afterFailure('backoff', 3, three, middle)).toEqual({ giveUp: true });
    expect(afterFailure('backoff', 4, three, middle)).toEqual({ giveUp: true });
  });

  it('gives up at once on a failure no retry can mend (revoked integration, no webhook URL)', () => {
    expect(afterFailure('never', 1, three, middle)).toEqual({ giveUp: true });
  });

  it('tries an attempt interrupted by a shutdown again at once, even after the last allowed attempt', () => {
    expect(afterFailure('now', 1, three, middle)).toEqual({ giveUp: false, delayMs: 0 });
    expect(afterFailure('now', 3, three, middle)).toEqual({ giveUp: false, delayMs: 0 });
  });
});
