import { describe, expect, it } from '@jest/globals';
import { percentile, summarize } from './stats.js';

describe('percentile (nearest rank)', () => {
  const oneToTen = [10, 1, 9, 2, 8, 3, 7, 4, 6, 5];

  it('gives measured values, never interpolated ones', () => {
    expect(percentile(oneToTen, 50)).toBe(5);
    expect(percentile(oneToTen, 90)).toBe(9);
    expect(percentile(oneToTen, 99)).toBe(10);
    expect(percentile(oneToTen, 100)).toBe(10);
    expect(percentile(oneToTen, 0)).toBe(1);
    expect(percentile(oneToTen, 10)).toBe(1);
    expect(percentile(oneToTen, 11)).toBe(2);
    expect(percentile([15, 20, 35, 40, 50], 30)).toBe(20); // the textbook example: rank ⌈1.5⌉ = 2
    expect(percentile([15, 20, 35, 40, 50], 40)).toBe(20);
    expect(percentile([15, 20, 35, 40, 50], 50)).toBe(35);
  });

  it('picks the right rank at 99 % and 99.9 % of 100 and 1000 samples', () => {
    const hundred = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(hundred, 99)).toBe(99);
    expect(percentile(hundred, 99.5)).toBe(100);
    const thousand = Array.from({ length: 1000 }, (_, i) => i + 1);
    expect(percentile(thousand, 99.9)).toBe(999);
    expect(percentile(thousand, 90)).toBe(900);
  });

  it('handles one sample, duplicates and fractional milliseconds', () => {
    expect(percentile([18.4], 50)).toBe(18.4);
    expect(percentile([18.4], 99)).toBe(18.4);
    expect(percentile([2, 2, 2, 7], 75)).toBe(2);
    expect(percentile([0.25, 0.5, 0.125], 50)).toBe(0.25);
  });

  it('is undefined for no samples', () => {
    expect(percentile([], 50)).toBeUndefined();
    expect(percentile([], 0)).toBeUndefined();
  });

  it('does not reorder its input', () => {
    const samples = [3, 1, 2];
    percentile(samples, 50);
    expect(samples).toEqual([3, 1, 2]);
  });

  it('refuses a percentile outside 0–100 and non-finite samples', () => {
    expect(() => percentile([1], -1)).toThrow(RangeError);
    expect(() => percentile([1], 101)).toThrow(RangeError);
    expect(() => percentile([1], Number.NaN)).toThrow(RangeError);
    expect(() => percentile([1, Number.NaN], 50)).toThrow(RangeError);
    expect(() => percentile([1, Number.POSITIVE_INFINITY], 50)).toThrow(RangeError);
  });
});

describe('summarize', () => {
  it('gives count, min, p50/p90/p99/p99.9, max and mean', () => {
    expect(summarize([4, 1, 3, 2])).toEqual({ count: 4, min: 1, p50: 2, p90: 4, p99: 4, p999: 4, max: 4, mean: 2.5 });
    const thousand = summarize(Array.from({ length: 1000 }, (_, i) => 1000 - i));
    expect([thousand.p99, thousand.p999, thousand.max]).toEqual([990, 999, 1000]);
  });

  it('gives nulls for no samples', () => {
    expect(summarize([])).toEqual({ count: 0, min: null, p50: null, p90: null, p99: null, p999: null, max: null, mean: null });
  });
});
