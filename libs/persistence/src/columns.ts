import type { ValueTransformer } from 'typeorm';

/**
 * bigint columns as JS numbers. pg hands int8 over as text by default (our pools are set up to
 * give numbers already, see database.ts, but rows reach TypeORM by other paths too), so accept
 * a number, a decimal string or a BigInt. Values beyond ±(2^53 − 1) cannot be represented
 * exactly and are refused rather than rounded.
 */
export const bigintAsNumber: ValueTransformer = {
  to: (value: unknown) => value,
  from: (value: unknown): number | null => {
    if (value === null || value === undefined) return null;
    const n = typeof value === 'number' ? value : Number(value);
    if (!Number.isSafeInteger(n)) {
      throw new RangeError(`bigint value ${String(value)} does not fit a JS number exactly`);
    }
    return n;
  },
};

const REAL_MAX = 3.4028234663852886e38; // largest float4
const REAL_MIN_NORMAL = 1.1754943508222875e-38; // smallest normal float4

/**
 * A number as a `real` (float4) column can hold it. The protocol accepts any finite double for an
 * accuracy or a signal strength; PostgreSQL refuses one beyond float4's range ("out of range for
 * type real"), which would lose a valid press. Beyond float4 it is clamped to float4's largest,
 * closer to zero than float4's smallest normal it is 0: neither changes anything a person reads.
 */
export function asReal(value: number | null | undefined): number | null {
  if (value === null || value === undefined) return null;
  if (Math.abs(value) < REAL_MIN_NORMAL) return 0;
  return Math.max(-REAL_MAX, Math.min(REAL_MAX, value));
}
