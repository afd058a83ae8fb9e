import { describe, expect, it } from '@jest/globals';
import { formatAge, formatPosition, slaClock } from './format.js';
import { boxAround, projection, ringsPath } from './projection.js';
import { tokenFromFragment } from './token.js';

describe('formatAge', () => {
  it.each([[0, '0:00'], [7.9, '0:07'], [723, '12:03'], [3723, '1:02:03'], [-5, '0:00']])('%s s → %s', (s, text) => {
    expect(formatAge(s)).toBe(text);
  });

  it('formats a position with its accuracy and source', () => {
    expect(formatPosition({ lat: 51.2194, lon: 4.4025, acc: 20.4, src: 'gnss' })).toBe('51.21940, 4.40250 ± 20 m (gnss)');
    expect(formatPosition({ lat: 50, lon: 4, acc: null, src: null })).toBe('50.00000, 4.00000');
  });
});

describe('projection', () => {
  it('maps degrees to kilometres east and south of the reference', () => {
    const project = projection(50.5, 4.5);
    const [x, y] = project(4.5, 50.5);
    expect([x, y]).toEqual([0, -0]);
    // Antwerp cathedral to Brussels Grand-Place is about 41 km
    const [ax, ay] = project(4.4006, 51.2203);
    const [bx, by] = project(4.3525, 50.8467);
    expect(Math.hypot(ax - bx, ay - by)).toBeCloseTo(41.7, 0);
    expect(ay).toBeLessThan(by); // north is up
  });

  it('boxes points with a margin and a minimum span', () => {
    expect(boxAround([])).toBeNull();
    expect(boxAround([[0, 0], [4, 2]], 1, 0)).toEqual({ minX: -1, minY: -1, maxX: 5, maxY: 3 });
    expect(boxAround([[10, 10]], 0, 2)).toEqual({ minX: 9, minY: 9, maxX: 11, maxY: 11 });
  });

  it('draws rings as a closed path', () => {
    expect(ringsPath([[[4.5, 50.5], [4.6, 50.5], [4.5, 50.5]]], projection(50.5, 4.5))).toMatch(/^M0\.000 -?0\.000L7\.\d+ -?0\.000L0\.000 -?0\.000Z$/);
  });
});

describe('tokenFromFragment', () => {
  it.each([
    ['#token=abc', 'abc', ''],
    ['#token=abc&view=alerts', 'abc', '#view=alerts'],
    ['#view=alerts', null, '#view=alerts'],
    ['', null, ''],
    ['#token=', null, ''],
  ])('%s', (hash, token, rest) => {
    expect(tokenFromFragment(hash)).toEqual({ token, rest });
  });
});

describe('slaClock', () => {
  const now = Date.parse('2026-11-30T12:00:00Z');
  it('counts down to the deadline of the awaited stage, then counts how long it is overdue', () => {
    expect(slaClock({ deliveredAt: null, nextEscalationAt: '2026-11-30T12:00:25Z' }, now)).toEqual({ text: 'delivery in 0:25', overdue: false });
    expect(slaClock({ deliveredAt: '2026-11-30T11:59:58Z', nextEscalationAt: '2026-11-30T12:01:58Z' }, now)).toEqual({ text: 'accept in 1:58', overdue: false });
    expect(slaClock({ deliveredAt: null, nextEscalationAt: '2026-11-30T11:59:53Z' }, now)).toEqual({ text: 'delivery overdue 0:07', overdue: true });
    expect(slaClock({ deliveredAt: null, nextEscalationAt: null }, now)).toBeNull();
  });
});
