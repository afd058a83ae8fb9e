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
