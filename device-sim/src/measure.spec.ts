import { describe, expect, it } from '@jest/globals';
import { evaluateObjectives, summarizeGroup, type PressSample } from './measure.js';

const base: PressSample = { deviceId: 'd', profile: 'good', seq: 1, atMs: 0, outcome: 'received', retransmissions: 0, duplicated: false };

describe('measurements', () => {
  const samples: PressSample[] = [
    { ...base, receivedMs: 900, cicMs: 850 },
    { ...base, receivedMs: 9_999, cicMs: 9_000 },
    { ...base, receivedMs: 12_000, cicMs: 11_000 },
    { ...base, outcome: 'lost' },
  ];

  it('counts the share received within 10 s and 15 s over all presses (a lost press counts as missed)', () => {
    const s = summarizeGroup(samples);
    expect(s.within10s).toBe(0.5);
    expect(s.within15s).toBe(0.75);
    expect(s.lost).toBe(1);
    expect(s.stages.receivedMs.count).toBe(3);
    expect(s.stages.receivedMs.p50).toBe(9_999);
  });

  it('misses the objectives for a lost press, a duplicate and a slow profile', () => {
    const objectives = evaluateObjectives([...samples, { ...base, receivedMs: 100, cicMs: 90, duplicated: true }], { cicWatched: true });
    const missed = objectives.filter((o) => !o.ok).map((o) => o.name);
    expect(missed).toEqual(['lost presses', 'duplicated presses', 'good: "received" within 10 s']);
  });

  it('requires every received press to be seen at the CIC', () => {
    const objectives = evaluateObjectives([{ ...base, receivedMs: 100 }], { cicWatched: true });
    expect(objectives.find((o) => o.name.includes('CIC'))).toMatchObject({ ok: false, actual: '0' });
  });

  it('passes a clean run', () => {
    expect(evaluateObjectives([{ ...base, receivedMs: 300, cicMs: 250 }], { cicWatched: true }).every((o) => o.ok)).toBe(true);
  });
});

describe('objectives of the coverage scenario', () => {
  it('reports the deadline shares without holding them when told so', () => {
    const slow: PressSample = { deviceId: 'd', profile: 'poor', seq: 1, atMs: 0, outcome: 'received', receivedMs: 45_000, cicMs: 44_000, retransmissions: 3, duplicated: false };
    const objectives = evaluateObjectives([slow], { cicWatched: true, deadlines: false });
    expect(objectives.every((o) => o.ok)).toBe(true);
    expect(objectives.some((o) => o.name.includes('within'))).toBe(false);
  });
});
