import { describe, expect, it } from '@jest/globals';
import { VIEW_POSITIONS, withAppended, type ViewParts } from './alarm-view.js';

const at = (lat: number, ts: number | null) => ({ lat, lon: 4.4, acc: 10, ts, src: 'gnss' });

function parts(positions: ViewParts['positions'], positionCount = positions.length): ViewParts {
  return { protectionCase: null, positions, positionCount, events: [{ type: 'received', at: new Date(0), data: { seq: 1 } }], firstPressTs: null };
}

describe(withAppended.name, () => {
  it('places new positions by device time, those without one last, as the view statement orders them', () => {
    const read = parts([at(1, 100), at(2, 300), at(3, null)]);
    const after = withAppended(read, { events: [], positions: [at(4, 200), at(5, null), at(6, 300)] });
    // ts ascending, ties and null times in the order stored
    expect(after.positions.map((p) => p.lat)).toEqual([1, 4, 2, 6, 3, 5]);
    expect(after.positionCount).toBe(6);
  });

  it('keeps the newest positions only, counting all of them', () => {
    const read = parts(Array.from({ length: VIEW_POSITIONS }, (_, i) => at(i, 1_000 + i)), 70);
    const after = withAppended(read, { events: [], positions: [at(99, 5)] });
    // a position older than every one shown is counted but not shown
    expect(after.positions).toHaveLength(VIEW_POSITIONS);
    expect(after.positions.map((p) => p.lat)).not.toContain(99);
    expect(after.positionCount).toBe(71);
    const newer = withAppended(read, { events: [], positions: [at(100, null)] });
    expect(newer.positions.at(-1)!.lat).toBe(100);
    expect(newer.positions[0]!.lat).toBe(1);
  });

  it('appends entries after the timeline read, and leaves parts without additions as they are', () => {
    const read = parts([]);
    const entry = { type: 'press', at: new Date(1_000), data: { seq: 2, pressCount: 2 } };
    expect(withAppended(read, { events: [entry], positions: [] }).events.map((e) => e.type)).toEqual(['received', 'press']);
    expect(withAppended(read, { events: [], positions: [] })).toBe(read);
  });
});
