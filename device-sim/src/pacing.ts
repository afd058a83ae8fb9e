/**
 * The bench's press generator pacing. One timer ticks about every millisecond; at each tick
 * every press that is due by then is sent in one batch. Press i is due at i / rate seconds
 * after the start, so the rate holds however late a tick comes (a late tick sends more), and
 * how late each press went out (the lag) is measured rather than hidden. The Pacer is pure
 * (elapsed time in, presses to send out); runPaced drives it with a timer.
 */
import { performance } from 'node:perf_hooks';
import { summarize, type LatencySummary } from './stats.js';

/** How many presses are due `elapsedMs` after the start: the first at 0, then one every 1000/rate ms, at most `total`. */
export function dueCount(rate: number, elapsedMs: number, total: number): number {
  if (elapsedMs < 0 || rate <= 0) return 0;
  return Math.min(total, Math.floor((elapsedMs * rate) / 1000 + 1e-9) + 1);
}

/** When press `index` (0-based) is due, ms after the start. */
export function dueAt(rate: number, index: number): number {
  return (index * 1000) / rate;
}

export interface PacingResult {
  asked: number;
  sent: number;
  /** Presses per second actually sent: sent ÷ (time of the last send + one interval). */
  achievedRate: number;
  /** How late the presses went out against their due times, ms. */
  lagMs: LatencySummary;
  /** Presses that could not go out when due because every device still waited for an answer. */
  heldBack: number;
}

export class Pacer {
  readonly total: number;
  private sentCount = 0;
  private lastSentAt = 0;
  private heldBack = 0;
  /** Presses below this index have been counted as held back. */
  private heldMark = 0;
  private readonly lags: number[] = [];

  constructor(
    readonly rate: number,
    durationMs: number,
  ) {
    this.total = rate > 0 ? Math.max(0, Math.round((rate * durationMs) / 1000)) : 0;
  }

  get sent(): number {
    return this.sentCount;
  }

  get done(): boolean {
    return this.sentCount >= this.total;
  }

  /** Presses due at `elapsedMs` and not yet sent. */
  due(elapsedMs: number): number {
    return Math.max(0, dueCount(this.rate, elapsedMs, this.total) - this.sentCount);
  }

  /**
   * `n` presses went out at `elapsedMs` (the oldest due first); `due` were due, so due − n were
   * held back (no device free) and stay due.
   */
  record(n: number, elapsedMs: number, due = n): void {
    if (due > n) {
      // presses sent+n … sent+due−1 wait; count each once however many ticks it waits
      const from = Math.max(this.heldMark, this.sentCount + n);
      const to = this.sentCount + due;
      if (to > from) this.heldBack += to - from;
      this.heldMark = Math.max(this.heldMark, to);
    }
    for (let i = 0; i < n; i++) this.lags.push(Math.max(0, elapsedMs - dueAt(this.rate, this.sentCount + i)));
    this.sentCount += n;
    if (n > 0) this.lastSentAt = elapsedMs;
  }

  result(): PacingResult {
    const span = this.lastSentAt + 1000 / Math.max(this.rate, 1e-9);
    return {
      asked: this.rate,
      sent: this.sentCount,
      achievedRate: this.sentCount === 0 ? 0 : (this.sentCount * 1000) / span,
      lagMs: summarize(this.lags),
      heldBack: this.heldBack,
    };
  }
}

/**
 * Sends presses at `rate` for `durationMs`: `send(n)` is asked for the presses due at each tick
 * and returns how many it sent (fewer when no device is free: they stay due and go out late).
 * `onTick` runs once per tick (progress). Stops early on `signal`.
 */
export async function runPaced(options: {
  rate: number;
  durationMs: number;
  send: (n: number, elapsedMs: number) => number;
  signal?: AbortSignal;
  onTick?: (elapsedMs: number, pacer: Pacer) => void;
  tickMs?: number;
}): Promise<PacingResult> {
  const pacer = new Pacer(options.rate, options.durationMs);
  const origin = performance.now();
  const tickMs = options.tickMs ?? 1;
  await new Promise<void>((resolve) => {
    const tick = (): void => {
      const elapsed = performance.now() - origin;
      const n = pacer.due(elapsed);
      if (n > 0) pacer.record(Math.min(n, options.send(n, elapsed)), elapsed, n);
      options.onTick?.(elapsed, pacer);
      if (options.signal?.aborted || elapsed >= options.durationMs) return resolve();
      setTimeout(tick, tickMs);
    };
    tick();
  });
  return pacer.result();
}
