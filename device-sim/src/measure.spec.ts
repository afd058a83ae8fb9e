import { describe, expect, it } from '@jest/globals';
import { checkAlarms, cicArrivalTimes, evaluateObjectives, markExtraAlarms, summarizeGroup, summarizePaths, type PressSample } from './measure.js';

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

describe('presses at the CIC', () => {
  it('matches each press of an alarm to the event that carries its press count', () => {
    const presses = [
      { alarmId: 'a', sentAt: 0, received: true },
      { alarmId: 'b', sentAt: 1, received: true },
      { alarmId: 'a', sentAt: 100, received: true }, // joins alarm a: its press 2
      { alarmId: 'a', sentAt: 200, received: false }, // lost: no CIC time
    ];
    const arrivals = new Map([
      ['a', [{ at: 150, pressCount: 2, received: false }, { at: 5, pressCount: 1, received: true }]], // the second press's event came first
      ['b', [{ at: 9, pressCount: 1, received: true }]],
    ]);
    expect(cicArrivalTimes(presses, arrivals)).toEqual([5, 9, 150, undefined]);
  });

  it('counts from the lowest press count seen for an alarm opened before the run, and takes a later count for coalesced events', () => {
    const presses = [
      { alarmId: 'old', sentAt: 0, received: true },
      { alarmId: 'old', sentAt: 10, received: true },
      { alarmId: 'old', sentAt: 20, received: true },
    ];
    const arrivals = new Map([['old', [{ at: 3, pressCount: 41, received: false }, { at: 30, pressCount: 43, received: false }]]]);
    expect(cicArrivalTimes(presses, arrivals)).toEqual([3, 30, 30]);
  });

  it('falls back to the first event after the press without press counts', () => {
    const arrivals = new Map([['a', [{ at: 4, received: true }, { at: 60, received: false }]]]);
    expect(cicArrivalTimes([{ alarmId: 'a', sentAt: 0, received: true }, { alarmId: 'a', sentAt: 50, received: true }], arrivals)).toEqual([4, 60]);
  });

  it('marks one press of the device duplicated for each alarm the CIC got that no press was acked with', () => {
    const samples: PressSample[] = [
      { ...base, deviceId: 'd1', alarmId: 'a' },
      { ...base, deviceId: 'd1', seq: 2, alarmId: 'a' },
      { ...base, deviceId: 'd2', alarmId: 'b' },
    ];
    const received = new Map([['a', { deviceId: 'd1' }], ['b', { deviceId: 'd2' }], ['x', { deviceId: 'd1' }], ['y', { deviceId: 'flooder' }]]);
    expect(markExtraAlarms(samples, received, new Set(['d1', 'd2']), -Infinity)).toBe(1);
    expect(samples.map((s) => s.duplicated)).toEqual([true, false, false]);
  });

  it('takes an alarm no ack named for the alarm of an unanswered press of its device, once per such press', () => {
    const samples: PressSample[] = [
      { ...base, deviceId: 'd1', outcome: 'lost' }, // stored, its answer lost with the connection
      { ...base, deviceId: 'd2', alarmId: 'b' },
      { ...base, deviceId: 'd2', seq: 2, outcome: 'aborted' },
    ];
    const received = new Map([['x', { deviceId: 'd1' }], ['b', { deviceId: 'd2' }], ['y', { deviceId: 'd2' }], ['z', { deviceId: 'd2' }]]);
    expect(markExtraAlarms(samples, received, new Set(['d1', 'd2']), -Infinity)).toBe(1);
    expect(samples.map((s) => s.duplicated)).toEqual([false, true, false]);
  });

  it('does not count an alarm opened before the run (left open by an earlier one, or handed over to another CIC during this one)', () => {
    const samples: PressSample[] = [{ ...base, deviceId: 'd1', alarmId: 'a' }, { ...base, deviceId: 'd2', alarmId: 'b' }];
    const since = Date.parse('2026-11-30T23:50:00Z');
    const received = new Map([
      ['a', { deviceId: 'd1', openedAt: since + 10 }],
      ['old', { deviceId: 'd1', openedAt: since - 60_000 }],
      ['new', { deviceId: 'd2', openedAt: since + 500 }],
    ]);
    expect(markExtraAlarms(samples, received, new Set(['d1', 'd2']), since)).toBe(1);
    expect(samples.map((s) => s.duplicated)).toEqual([false, true]);
  });
});

describe('the SMS path', () => {
  it('gives per path and on either the share answered within 10 s and 15 s, and who answered first', () => {
    const p = summarizePaths([
      { ...base, receivedMs: 900, mqttMs: 900, receivedPath: 'mqtt', smsSent: 0 },
      { ...base, seq: 2, receivedMs: 12_000, mqttMs: 20_000, smsMs: 12_000, receivedPath: 'sms', smsSent: 1 },
      { ...base, seq: 3, receivedMs: 9_000, mqttMs: 9_000, smsMs: 16_000, receivedPath: 'mqtt', smsSent: 1 },
      { ...base, seq: 4, outcome: 'lost', smsSent: 2 },
    ]);
    expect(p).toEqual({
      presses: 4,
      fellBack: 3,
      firstBy: { mqtt: 2, sms: 1 },
      mqtt: { within10s: 0.5, within15s: 0.5 },
      sms: { within10s: 0, within15s: 0.25 },
      both: { within10s: 0.5, within15s: 0.75 },
    });
  });

  it('finds a press the platform counted twice, and an alarm no press was acked with', () => {
    const samples: PressSample[] = [
      { ...base, deviceId: 'a', seq: 1, alarmId: 'A1' },
      { ...base, deviceId: 'a', seq: 2, alarmId: 'A1' },
      { ...base, deviceId: 'b', seq: 1, alarmId: 'B1' },
    ];
    const devices = new Set(['a', 'b']);
    expect(checkAlarms([{ id: 'A1', deviceId: 'a', pressCount: 2 }, { id: 'B1', deviceId: 'b', pressCount: 1 }, { id: 'X', deviceId: 'other', pressCount: 9 }], samples, devices)).toEqual({
      alarms: 2,
      countedTwice: 0,
      withoutPress: 0,
    });
    // one press over MQTT and by SMS counted as two, and a second alarm for device b
    expect(checkAlarms([{ id: 'A1', deviceId: 'a', pressCount: 3 }, { id: 'B1', deviceId: 'b', pressCount: 1 }, { id: 'B2', deviceId: 'b', pressCount: 1 }], samples, devices)).toEqual({
      alarms: 3,
      countedTwice: 2,
      withoutPress: 1,
    });
  });
});
