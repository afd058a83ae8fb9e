import type { RateLimit } from '@amr/config';

/** A request the bucket let through, or how long until it would. */
export type Take = { readonly ok: true } | { readonly ok: false; readonly retryAfterS: number };

const OK: Take = { ok: true };

/** Keys remembered at the most; beyond it the full buckets are forgotten (they hold nothing). */
const MAX_KEYS = 100_000;

/**
 * Token buckets by key, in memory (so per node): each key holds up to `burst` tokens, refilled at
 * `perS` a second; a request takes one. A key whose bucket has refilled is the same as an unknown
 * key, so idle keys are dropped when the map grows large. Pure apart from the clock it is given.
 */
export class TokenBuckets {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(private readonly limit: RateLimit, private readonly now: () => number = Date.now) {}

  take(key: string): Take {
    if (this.limit.perS <= 0) return OK;
    const now = this.now();
    const bucket = this.buckets.get(key);
    const tokens = bucket ? Math.min(this.limit.burst, bucket.tokens + ((now - bucket.at) / 1000) * this.limit.perS) : this.limit.burst;
    if (tokens < 1) {
      if (bucket) Object.assign(bucket, { tokens, at: now });
      return { ok: false, retryAfterS: Math.max(1, Math.ceil((1 - tokens) / this.limit.perS)) };
    }
    if (!bucket && this.buckets.size >= MAX_KEYS) this.forgetFull(now);
    this.buckets.set(key, { tokens: tokens - 1, at: now });
    return OK;
  }

  get size(): number {
    return this.buckets.size;
  }

  private forgetFull(now: number): void {
    for (const [key, b] of this.buckets) {
      if (b.tokens + ((now - b.at) / 1000) * this.limit.perS >= this.limit.burst) this.buckets.delete(key);
    }
  }
}
