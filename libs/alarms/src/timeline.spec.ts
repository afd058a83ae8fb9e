import { describe, expect, it } from '@jest/globals';
import { AlarmEvent } from '@amr/persistence';
import { canonicalJson, chainEntries, entryHash, personalPartDigest, verifyChain } from './timeline.js';

const ALARM = '5f0c1d7e-8a43-4b7e-9f57-0e4b7b1f2a10';

/** Builds a correctly chained timeline, as appendEvent writes it. */
function chain(entries: { type: string; data: Record<string, unknown> }[]): AlarmEvent[] {
  let prev: string | null = null;
  return entries.map((e, i) => {
    const at = new Date(Date.UTC(2026, 10, 23, 12, 0, i));
    const hash = entryHash(prev, { alarmId: ALARM, at, type: e.type, data: e.data });
    const event = Object.assign(new AlarmEvent(), { id: i + 1, alarmId: ALARM, at, type: e.type, data: e.data, prevHash: prev, hash });
    prev = hash;
    return event;
  });
}

const TIMELINE = [
  { type: 'received', data: { seq: 4 } },
  { type: 'routed', data: { cicId: 'cic-namur', reason: 'position', position: { lat: 50.4674, lon: 4.872 } } },
  { type: 'accepted', data: { by: 'integration:1' } },
];

describe(verifyChain.name, () => {
  it('verifies an untouched chain', () => {
    expect(verifyChain(chain(TIMELINE))).toMatchObject({ valid: true, entries: 3 });
  });

  it('names the first altered entry', () => {
    const events = chain(TIMELINE);
    events[1]!.data = { ...events[1]!.data, cicId: 'cic-liege' };
    expect(verifyChain(events)).toMatchObject({ valid: false, firstInvalid: { id: 2, reason: expect.stringMatching(/altered/) } });
  });

  it('notices a removed entry and a moved timestamp', () => {
    const removed = chain(TIMELINE).filter((e) => e.id !== 2);
    expect(verifyChain(removed)).toMatchObject({ valid: false, firstInvalid: { id: 3, reason: expect.stringMatching(/removed/) } });
    const moved = chain(TIMELINE);
    moved[2]!.at = new Date(moved[2]!.at.getTime() + 1);
    expect(verifyChain(moved)).toMatchObject({ valid: false, firstInvalid: { id: 3 } });
  });

  it('does not depend on the key order the database returns', () => {
    const events = chain(TIMELINE);
    const routed = events[1]!.data as { position: { lat: number; lon: number } };
    events[1]!.data = { position: { lon: routed.position.lon, lat: routed.position.lat }, reason: 'position', cicId: 'cic-namur' };
    expect(verifyChain(events).valid).toBe(true);
  });
});

describe('personal parts of timeline entries', () => {
  /** A timeline as written since personal parts are kept apart: the routed-on position and the outcome are personal. */
  function withPersonalParts(): AlarmEvent[] {
    const at = new Date(Date.UTC(2026, 10, 23, 12, 0, 0));
    const rows = chainEntries(ALARM, null, [
      { type: 'received', data: { seq: 4 } },
      { type: 'routed', data: { cicId: 'cic-namur', reason: 'position' }, personal: { position: { lat: 50.4674, lon: 4.872 } } },
      { type: 'closed', data: { by: 'admin' }, personal: { outcome: 'perpetrator arrested' } },
    ], at);
    return rows.map((row, i) => Object.assign(new AlarmEvent(), row, { id: i + 1, erasedAt: null }));
  }

  function erase(events: AlarmEvent[]): AlarmEvent[] {
    return events.map((e) => (e.personal ? Object.assign(e, { personal: null, erasedAt: new Date() }) : e));
  }

  it('salts each personal part, so that its digest cannot be found by trying positions', () => {
    const [a, b] = [withPersonalParts()[1]!, withPersonalParts()[1]!];
    expect(a.personal!.data).toEqual(b.personal!.data);
    expect(a.personalDigest).not.toBe(b.personalDigest);
    expect(a.personalDigest).toBe(personalPartDigest(a.personal!));
  });

  it('verifies with the personal parts, and still verifies once they are erased', () => {
    const events = withPersonalParts();
    expect(verifyChain(events)).toMatchObject({ valid: true, entries: 3, erased: 0 });
    const erased = erase(events);
    expect(erased.filter((e) => e.personal)).toHaveLength(0);
    expect(verifyChain(erased)).toEqual({ valid: true, entries: 3, erased: 2, algorithm: expect.any(String) });
  });

  it('notices an altered personal part, and an altered digest after erasure', () => {
    const altered = withPersonalParts();
    altered[1]!.personal = { ...altered[1]!.personal!, data: { position: { lat: 50.5, lon: 4.872 } } };
    expect(verifyChain(altered)).toMatchObject({ valid: false, firstInvalid: { id: 2, reason: expect.stringMatching(/personal part/) } });
    const erased = erase(withPersonalParts());
    erased[2]!.personalDigest = personalPartDigest({ salt: 'x', data: { outcome: 'false alarm' } });
    expect(verifyChain(erased)).toMatchObject({ valid: false, firstInvalid: { id: 3, reason: expect.stringMatching(/altered/) } });
  });

  it('checks only the link of an entry written before personal parts existed once its position is erased', () => {
    const events = chain(TIMELINE);
    const routed = events[1]!;
    const { position: _erased, ...rest } = routed.data as Record<string, unknown>;
    Object.assign(routed, { data: rest, erasedAt: new Date() });
    expect(verifyChain(events)).toMatchObject({ valid: true, erased: 1, linkOnly: [2] });
    events[2]!.prevHash = 'f'.repeat(64);
    expect(verifyChain(events).valid).toBe(false);
  });
});

describe(canonicalJson.name, () => {
  it('sorts keys at every level and keeps arrays in order', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: null } })).toBe('{"a":{"c":null,"d":[3,{"y":2,"z":1}]},"b":1}');
  });
});
