import { Inject, Injectable, Optional } from '@nestjs/common';
import type { AmrConfig } from '@amr/config';
import { AMR_CONFIG } from '@amr/runtime';
import { addressKey } from '@amr/security';

/** The clock the throttle reads (milliseconds); tests inject their own. */
export const AUTH_THROTTLE_CLOCK = Symbol('AuthThrottleClock');

/** The first back-off; each further one doubles, up to `maxBackoffS`. */
const FIRST_BACKOFF_MS = 1000;
/** Addresses remembered at the most; beyond it the least recently failing one is forgotten. */
const MAX_ADDRESSES = 100_000;

interface AddressState {
  /** Failures in the current window. */
  failures: number;
  windowStart: number;
  /** Back-offs served so far: the next one lasts FIRST_BACKOFF_MS × 2^level (capped). */
  level: number;
  blockedUntil: number;
  lastFailure: number;
}

/**
 * Wrong device secrets, per source address (CONTRACT §1): after `maxFailures` wrong secrets or
 * unknown ids within `failureWindowS`, the address backs off for 1 s, then 2 s, 4 s … up to
 * `maxBackoffS` each time it reaches the threshold again. During a back-off the authenticator does
 * no expensive work for the address (no scrypt); it still accepts the right secret of a device whose
 * hash is a digest, so a button behind the same carrier NAT as an attacker is never locked out.
 *
 * The state is bounded: an address is forgotten once it has been quiet for a window plus the
 * longest back-off, and at most MAX_ADDRESSES are kept (the least recently failing goes first).
 * IPv4-mapped IPv6 addresses count as their IPv4 address; other IPv6 addresses by their /64.
 */
@Injectable()
export class AuthThrottle {
  private readonly addresses = new Map<string, AddressState>();
  private readonly maxFailures: number;
  private readonly windowMs: number;
  private readonly maxBackoffMs: number;
  private lastSweep: number;

  constructor(
    @Inject(AMR_CONFIG) config: AmrConfig,
    @Optional() @Inject(AUTH_THROTTLE_CLOCK) private readonly now: () => number = Date.now,
  ) {
    this.maxFailures = config.deviceAuth.maxFailures;
    this.windowMs = config.deviceAuth.failureWindowS * 1000;
    this.maxBackoffMs = config.deviceAuth.maxBackoffS * 1000;
    this.lastSweep = this.now();
  }

  /** True while the address is backing off: only cheap checks may be made for it. */
  blocked(address: string | undefined): boolean {
    const state = this.addresses.get(addressKey(address));
    return state !== undefined && this.now() < state.blockedUntil;
  }

  /**
   * A wrong secret or an unknown id from the address. Returns the back-off it starts, in ms
   * (0: none). Failures during a back-off are not counted: they cost nothing to refuse.
   */
  failure(address: string | undefined): number {
    const now = this.now();
    this.sweep(now);
    const key = addressKey(address);
    let state = this.addresses.get(key);
    if (state && this.expired(state, now)) state = undefined;
    if (!state) state = { failures: 0, windowStart: now, level: 0, blockedUntil: 0, lastFailure: now };
    // Re-inserted, so that the map's order is least recently failing first.
    this.addresses.delete(key);
    this.addresses.set(key, state);
    if (this.addresses.size > MAX_ADDRESSES) this.addresses.delete(this.addresses.keys().next().value!);

    state.lastFailure = now;
    if (now < state.blockedUntil) return 0;
    if (now - state.windowStart >= this.windowMs) {
      state.failures = 0;
      state.windowStart = now;
    }
    state.failures += 1;
    if (state.failures < this.maxFailures) return 0;
    const backoff = Math.min(FIRST_BACKOFF_MS * 2 ** state.level, this.maxBackoffMs);
    state.level += 1;
    state.failures = 0;
    state.windowStart = now;
    state.blockedUntil = now + backoff;
    return backoff;
  }

  /** Addresses currently remembered (for tests and metrics). */
  get size(): number {
    return this.addresses.size;
  }

  /** An address is forgotten (its back-off level too) after a window and a longest back-off of quiet. */
  private expired(state: AddressState, now: number): boolean {
    return now >= Math.max(state.blockedUntil, state.lastFailure + this.windowMs) + this.maxBackoffMs;
  }

  /** At most once a window: drops the addresses that have expired. */
  private sweep(now: number): void {
    if (now - this.lastSweep < this.windowMs) return;
    this.lastSweep = now;
    for (const [key, state] of this.addresses) if (this.expired(state, now)) this.addresses.delete(key);
  }
}
