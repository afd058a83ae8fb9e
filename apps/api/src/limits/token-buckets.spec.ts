import { describe, expect, it } from '@jest/globals';
import { TokenBuckets } from './token-buckets.js';

describe(TokenBuckets.name, () => {
  const clock = () => {
    let t = 1_000_000;
    return { now: () => t, advance: (ms: number) => (t += ms) };
  };

  it('lets a burst through, then refuses with the seconds until the next token', () => {
    const c = clock();
    const buckets = new TokenBuckets({ perS: 2, burst: 5 }, c.now);
    for (let i = 0; i < 5; i++) expect(buckets.take('a').ok).toBe(true);
    expect(buckets.take('a')).toEqual({ ok: false, retryAfterS: 1 });
    c.advance(499);
    expect(buckets.take('a').ok).toBe(false);
    c.advance(1);
    expect(buckets.take('a').ok).toBe(true);
    expect(buckets.take('a').ok).toBe(false);
  });

  it('keeps keys apart: one exhausted key does not touch another', () => {
    const buckets = new TokenBuckets({ perS: 1, burst: 1 }, clock().now);
    expect(buckets.take('a').ok).toBe(true);
    expect(buckets.take('a').ok).toBe(false);
    expect(buckets.take('b').ok).toBe(true);
  });

  it('says how long a slow bucket needs: Retry-After is never 0', () => {
    const buckets = new TokenBuckets({ perS: 1, burst: 3 }, clock().now);
    for (let i = 0; i < 3; i++) buckets.take('a');
    expect(buckets.take('a')).toEqual({ ok: false, retryAfterS: 1 });
    const slow = new TokenBuckets({ perS: 0.25, burst: 1 }, clock().now);
    slow.take('a');
    expect(slow.take('a')).toEqual({ ok: false, retryAfterS: 4 });
  });

  it('never refuses when the rate is 0 (limit off), and remembers nothing', () => {
    const buckets = new TokenBuckets({ perS: 0, burst: 1 }, clock().now);
    for (let i = 0; i < 100; i++) expect(buckets.take('a').ok).toBe(true);
    expect(buckets.size).toBe(0);
  });

  it('refills to the burst, not beyond it, after a long pause', () => {
    const c = clock();
    const buckets = new TokenBuckets({ perS: 10, burst: 3 }, c.now);
    buckets.take('a');
    c.advance(60_000);
    for (let i = 0; i < 3; i++) expect(buckets.take('a').ok).toBe(true);
    expect(buckets.take('a').ok).toBe(false);
  });
});
