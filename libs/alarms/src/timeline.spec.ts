import { describe, expect, it } from '@jest/globals';
import { AlarmEvent } from '@amr/persistence';
import { canonicalJson, entryHash, verifyChain } from './timeline.js';

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

describe(canonicalJson.name, () => {
  it('sorts keys at every level and keeps arrays in order', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: null } })).toBe('{"a":{"c":null,"d":[3,{"y":2,"z":1}]},"b":1}');
  });
});
