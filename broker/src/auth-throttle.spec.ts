import { beforeEach, describe, expect, it } from '@jest/globals';
import { loadConfig } from '@amr/config';
import { AuthThrottle } from './auth-throttle.js';

const ATTACKER = '203.0.113.7';

describe(AuthThrottle.name, () => {
  let now: number;
  let throttle: AuthThrottle;

  beforeEach(() => {
    now = 1_000_000;
    const config = loadConfig({ AMR_AUTH_MAX_FAILURES: '3', AMR_AUTH_FAILURE_WINDOW_S: '10', AMR_AUTH_MAX_BACKOFF_S: '8' });
    throttle = new AuthThrottle(config, () => now);
  });

  /** Fails `n` times from the address; returns the last back-off started. */
  function fail(n: number, address = ATTACKER): number {
    let backoff = 0;
    for (let i = 0; i < n; i++) backoff = throttle.failure(address);
    return backoff;
  }

  it('lets an address fail a few times before it backs off', () => {
    expect(fail(2)).toBe(0);
    expect(throttle.blocked(ATTACKER)).toBe(false);
    expect(fail(1)).toBe(1000);
    expect(throttle.blocked(ATTACKER)).toBe(true);
    now += 999;
    expect(throttle.blocked(ATTACKER)).toBe(true);
    now += 1;
    expect(throttle.blocked(ATTACKER)).toBe(false);
  });

  it('counts failures within a window only', () => {
    fail(2);
    now += 10_000;
    expect(fail(2)).toBe(0);
    expect(throttle.blocked(ATTACKER)).toBe(false);
  });

  it('doubles the back-off each time the threshold is reached again, up to the cap', () => {
    const backoffs: number[] = [];
    for (let round = 0; round < 6; round++) {
      const backoff = fail(3);
      backoffs.push(backoff);
      now += backoff;
    }
    expect(backoffs).toEqual([1000, 2000, 4000, 8000, 8000, 8000]);
  });

  it('does not count failures during a back-off (they cost nothing to refuse) nor extend it', () => {
    fail(3);
    expect(fail(50)).toBe(0);
    now += 1000;
    expect(throttle.blocked(ATTACKER)).toBe(false);
    expect(fail(2)).toBe(0);
  });

  it('throttles one address without touching another', () => {
    fail(3);
    expect(throttle.blocked(ATTACKER)).toBe(true);
    expect(throttle.blocked('198.51.100.1')).toBe(false);
  });

  it('forgets an address, back-off level included, after a quiet window and a longest back-off', () => {
    fail(3);
    now += 1000;
    expect(fail(3)).toBe(2000);
    now += 2000 + 10_000 + 8000;
    expect(fail(3)).toBe(1000);
  });

  it('keeps its state bounded: expired addresses are pruned', () => {
    for (let i = 0; i < 1000; i++) throttle.failure(`10.0.${i >> 8}.${i & 0xff}`);
    expect(throttle.size).toBe(1000);
    now += 10_000 + 8000;
    throttle.failure(ATTACKER);
    expect(throttle.size).toBe(1);
  });

  it('treats an IPv4-mapped IPv6 address as the IPv4 address', () => {
    fail(2, `::ffff:${ATTACKER}`);
    fail(1, ATTACKER);
    expect(throttle.blocked(`::ffff:${ATTACKER}`)).toBe(true);
    expect(throttle.blocked(ATTACKER)).toBe(true);
  });
});
