import { describe, expect, it } from '@jest/globals';
import { AlarmStore, isInformationalCopy } from './alarm-store.js';
import type { Alarm } from './types.js';

const alarm = (over: Partial<Alarm> = {}): Alarm => ({
  id: 'a1', deviceId: 'btn-1', caseId: 'c1', cicId: 'cic-antwerpen', homeCicId: null, kind: 'panic', stage: 'received',
  pressCount: 1, flags: [], receivedAt: '2026-11-30T10:00:00.000Z', updatedAt: '2026-11-30T10:00:00.000Z',
  deliveredAt: null, acceptedAt: null, dispatchedAt: null, closedAt: null, outcome: null, escalationLevel: 0,
  case: null, positions: [], positionCount: 0, timeline: [], ...over,
});

describe(AlarmStore.name, () => {
  it('says when an alarm appears on the board, not when it changes', () => {
    const store = new AlarmStore();
    expect(store.upsert(alarm()).appeared).toBe(true);
    expect(store.upsert(alarm({ stage: 'accepted', updatedAt: '2026-11-30T10:00:05.000Z' })).appeared).toBe(false);
    expect(store.open().map((a) => a.stage)).toEqual(['accepted']);
  });

  it('ignores a view older than the one it holds (list and stream answer in any order)', () => {
    const store = new AlarmStore();
    store.upsert(alarm({ stage: 'accepted', updatedAt: '2026-11-30T10:00:05.000Z' }));
    expect(store.upsert(alarm()).alarm).toBeNull();
    expect(store.get('a1')?.stage).toBe('accepted');
  });

  it('takes a closed alarm off the board', () => {
    const store = new AlarmStore();
    store.upsert(alarm());
    store.upsert(alarm({ stage: 'closed', updatedAt: '2026-11-30T10:01:00.000Z' }));
    expect(store.open()).toEqual([]);
    expect(store.get('a1')?.stage).toBe('closed');
  });

  it('puts new alarms first, then the highest risk, then the oldest', () => {
    const store = new AlarmStore();
    const risk = (riskLevel: string) => ({ case: { id: 'c', homeCicId: 'x', reference: null, riskLevel, responderNotes: null, perpetrator: null, protectionOrders: [], victim: null } });
    store.upsert(alarm({ id: 'old-low', stage: 'accepted', ...risk('low'), receivedAt: '2026-11-30T09:00:00.000Z' }));
    store.upsert(alarm({ id: 'crit', stage: 'accepted', ...risk('critical') }));
    store.upsert(alarm({ id: 'new', ...risk('low') }));
    expect(store.open().map((a) => a.id)).toEqual(['new', 'crit', 'old-low']);
  });

  it('adds a reported position to the trail once', () => {
    const store = new AlarmStore();
    store.upsert(alarm({ positions: [{ lat: 51.2, lon: 4.4, acc: 20, ts: 100, src: 'gnss' }], positionCount: 1 }));
    const event = { alarmId: 'a1', deviceId: 'btn-1', seq: 1, lat: 51.21, lon: 4.41, acc: 15, ts: 115, src: 'gnss' };
    expect(store.addPosition(event).alarm?.positions).toHaveLength(2);
    expect(store.addPosition(event).alarm).toBeNull();
    expect(store.addPosition({ ...event, alarmId: 'unknown' }).alarm).toBeNull();
    expect(store.get('a1')?.positionCount).toBe(2);
  });

  it('knows an informational copy: handled by another CIC than the operator\'s', () => {
    expect(isInformationalCopy(alarm({ cicId: 'cic-liege', homeCicId: 'cic-antwerpen' }), 'cic-antwerpen')).toBe(true);
    expect(isInformationalCopy(alarm(), 'cic-antwerpen')).toBe(false);
    expect(isInformationalCopy(alarm(), null)).toBe(false); // the administrator sees every alarm as it is
  });
});
