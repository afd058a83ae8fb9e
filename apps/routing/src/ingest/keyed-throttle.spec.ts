import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { KeyedThrottle } from './keyed-throttle.js';

describe(KeyedThrottle.name, () => {
  beforeEach(() => {
    jest.useFakeTimers();
  });
  afterEach(() => {
    jest.useRealTimers();
  });

  it('runs the first call at once and folds the calls of the interval into one at its end', () => {
    const runs: [string, string[]][] = [];
    const throttle = new KeyedThrottle<string[]>(1000, (key, arg) => runs.push([key, arg]), (a, b) => [...a, ...b]);
    expect(throttle.call('dev-1', ['ack'])).toBe(true);
    expect(throttle.call('dev-1', ['cmd'])).toBe(false);
    expect(throttle.call('dev-1', ['ack'])).toBe(false);
    expect(runs).toEqual([['dev-1', ['ack']]]);
    jest.advanceTimersByTime(1000);
    expect(runs).toEqual([['dev-1', ['ack']], ['dev-1', ['cmd', 'ack']]]);
    // the trailing run opened a new interval; with no call in it, nothing more runs
    jest.advanceTimersByTime(5000);
    expect(runs).toHaveLength(2);
  });

  it('keeps keys apart', () => {
    const runs: string[] = [];
    const throttle = new KeyedThrottle<true>(1000, (key) => runs.push(key));
    throttle.call('a', true);
    throttle.call('b', true);
    throttle.call('a', true);
    expect(runs).toEqual(['a', 'b']);
  });

  it('forgets a key whose interval passed without another call', () => {
    const runs: string[] = [];
    const throttle = new KeyedThrottle<true>(1000, (key) => runs.push(key));
    throttle.call('a', true);
    jest.advanceTimersByTime(1000);
    expect(throttle.call('a', true)).toBe(true);
    expect(runs).toEqual(['a', 'a']);
  });

  it('leaves the first call of an interval to the caller when entered, and runs the folded ones at its end', () => {
    const runs: string[] = [];
    const throttle = new KeyedThrottle<true>(1000, (key) => runs.push(key));
    expect(throttle.has('a')).toBe(false);
    expect(throttle.enter('a', true)).toBe(true);
    expect(throttle.has('a')).toBe(true);
    expect(runs).toEqual([]);
    expect(throttle.enter('a', true)).toBe(false);
    jest.advanceTimersByTime(1000);
    expect(runs).toEqual(['a']);
    // an entered interval with no other call ends with nothing run
    expect(throttle.enter('b', true)).toBe(true);
    jest.advanceTimersByTime(3000);
    expect(runs).toEqual(['a']);
    expect(throttle.has('b')).toBe(false);
  });
});
