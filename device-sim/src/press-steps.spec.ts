import { describe, expect, it } from '@jest/globals';
import { connectSteps, labelledHistograms, pressSteps } from './press-steps.js';

/** Prometheus text of amr_press_step_seconds with the given observations (seconds) per step. */
function scrape(observations: Record<string, number[]>, name = 'amr_press_step_seconds'): string {
  const bounds = [0.001, 0.01, 0.1, Infinity];
  const lines: string[] = [];
  for (const [step, values] of Object.entries(observations)) {
    for (const le of bounds) {
      lines.push(`${name}_bucket{le="${le === Infinity ? '+Inf' : le}",step="${step}"} ${values.filter((v) => v <= le).length}`);
    }
    lines.push(`${name}_sum{step="${step}"} ${values.reduce((a, b) => a + b, 0)}`);
    lines.push(`${name}_count{step="${step}"} ${values.length}`);
  }
  return lines.join('\n') + '\n';
}

describe('the press path profile from amr_press_step_seconds', () => {
  it('reads a labelled histogram per label value', () => {
    const h = labelledHistograms(scrape({ commit: [0.0005, 0.002], begin: [0.0002] }), 'amr_press_step_seconds', 'step');
    expect([...h.keys()].sort()).toEqual(['begin', 'commit']);
    expect(h.get('commit')).toEqual({ buckets: [[0.001, 1], [0.01, 2], [0.1, 2], [Infinity, 2]], count: 2, sum: 0.0025 });
  });

  it('gives what happened between two scrapes, in transaction order, leaving out steps not seen', () => {
    const before = scrape({ 'press-write': [0.05], commit: [0.0005], begin: [0.0005] });
    const after = scrape({ 'press-write': [0.05, 0.005, 0.005], commit: [0.0005, 0.0005, 0.05], begin: [0.0005], queued: [0.0001, 0.0001, 0.0001, 0.02] });
    const steps = pressSteps(before, after);
    expect(steps.map((s) => s.step)).toEqual(['queued', 'press-write', 'commit']);
    const write = steps.find((s) => s.step === 'press-write')!;
    expect(write.count).toBe(2);
    expect(write.meanMs).toBeCloseTo(5);
    expect(write.p50Ms).toBe(10);
    expect(write.totalS).toBeCloseTo(0.01);
    const queued = steps[0]!;
    expect([queued.count, queued.p50Ms, queued.p99Ms]).toEqual([4, 1, 100]);
  });

  it('places steps sent together by their first known statement', () => {
    const after = scrape({
      'press-write + commit': [0.002],
      'press-lock-alarms + press-timeline-heads': [0.001],
      'begin + press-lookup': [0.001],
      'something-else': [0.001],
      queued: [0.0001],
    });
    expect(pressSteps('', after).map((s) => s.step)).toEqual([
      'queued',
      'begin + press-lookup',
      'press-lock-alarms + press-timeline-heads',
      'press-write + commit',
      'something-else',
    ]);
  });

  it('reads the connections\' steps from their own metric, in the order they happen, from a first scrape', () => {
    const text = scrape({ connack: [0.05, 0.05], read: [0.0005, 0.0005], credentials: [0.02, 0.02] }, 'amr_mqtt_connect_step_seconds') + scrape({ commit: [0.001] });
    const steps = connectSteps('', text);
    expect(steps.map((s) => [s.step, s.count, s.p99Ms])).toEqual([['read', 2, 1], ['credentials', 2, 100], ['connack', 2, 100]]);
  });
});
