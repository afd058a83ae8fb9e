/**
 * Latency statistics for the simulator's summaries: nearest-rank percentiles over measured
 * samples (no interpolation, so every reported value is one that was actually measured).
 */

/**
 * The nearest-rank percentile `p` (0–100) of `samples`: the smallest sample such that at least
 * p % of the samples are ≤ it. p = 0 gives the minimum, p = 100 the maximum. Undefined for no
 * samples. Does not modify `samples`.
 */
export function percentile(samples: readonly number[], p: number): number | undefined {
  if (!Number.isFinite(p) || p < 0 || p > 100) throw new RangeError(`percentile must be 0–100, got ${p}`);
  if (samples.length === 0) return undefined;
  return percentileOfSorted(sortedCopy(samples), p);
}

export interface LatencySummary {
  count: number;
  /** Null when there are no samples (JSON-friendly). */
  min: number | null;
  p50: number | null;
  p90: number | null;
  p99: number | null;
  p999: number | null;
  max: number | null;
  mean: number | null;
}

/** Count, min, p50/p90/p99/p99.9 (nearest rank), max and mean of `samples`. */
export function summarize(samples: readonly number[]): LatencySummary {
  if (samples.length === 0) return { count: 0, min: null, p50: null, p90: null, p99: null, p999: null, max: null, mean: null };
  const sorted = sortedCopy(samples);
  return {
    count: sorted.length,
    min: sorted[0]!,
    p50: percentileOfSorted(sorted, 50),
    p90: percentileOfSorted(sorted, 90),
    p99: percentileOfSorted(sorted, 99),
    p999: percentileOfSorted(sorted, 99.9),
    max: sorted[sorted.length - 1]!,
    mean: sorted.reduce((sum, x) => sum + x, 0) / sorted.length,
  };
}

function sortedCopy(samples: readonly number[]): number[] {
  for (const x of samples) {
    if (!Number.isFinite(x)) throw new RangeError(`not a finite sample: ${x}`);
  }
  return [...samples].sort((a, b) => a - b);
}

function percentileOfSorted(sorted: readonly number[], p: number): number {
  if (p === 0) return sorted[0]!;
  // rank = ⌈p/100 · N⌉ (1-based); the epsilon keeps 99.9 % of 1000 at rank 999, not 1000
  const rank = Math.ceil((p * sorted.length) / 100 - 1e-9);
  return sorted[Math.min(Math.max(rank, 1), sorted.length) - 1]!;
}
