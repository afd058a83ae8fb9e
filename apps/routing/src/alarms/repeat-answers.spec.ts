import { describe, expect, it } from '@jest/globals';
import type { PressInput, PressOutcome, StoredAlarm } from './press-store.js';
import { RepeatAnswers } from './repeat-answers.js';

const alarm = (retransmissions: number): StoredAlarm => ({ id: 'a-1', deviceId: 'btn-1', stage: 'received', pressCount: 1, retransmissions, lastSeq: 7, flags: [] });

function press(seq: number, ts = 1_790_000_000, path: PressInput['path'] = 'mqtt', deviceId = 'btn-1'): PressInput {
  return { deviceId, press: { seq, ts, kind: 'panic' }, encoding: 'cbor', receivedAt: new Date(), path, acks: [path] };
}

const retransmission = (retransmissions: number): PressOutcome => ({ kind: 'retransmission', alarm: alarm(retransmissions), seq: 7 });

describe(RepeatAnswers.name, () => {
  function setup() {
    let now = 0;
    const repeats = new RepeatAnswers(3, 15_000, () => now);
    return { repeats, later: (ms: number) => (now += ms) };
  }

  it('answers from memory only once the press\'s timeline holds its retransmissions, and counts each copy', () => {
    const { repeats } = setup();
    repeats.learn(press(7), retransmission(2)); // the third entry is still to be written
    expect(repeats.answer(press(7))).toBeUndefined();
    repeats.learn(press(7), retransmission(3));
    expect(repeats.answer(press(7))).toEqual({ kind: 'retransmission', alarm: alarm(4), seq: 7 });
    expect(repeats.answer(press(7))).toEqual({ kind: 'retransmission', alarm: alarm(5), seq: 7 });
    expect(repeats.takeCounts()).toEqual([{ id: 'a-1', n: 2 }]);
    expect(repeats.takeCounts()).toEqual([]); // taken
  });

  it('sends the same press with another device time, another press, or anything after it to the database', () => {
    const { repeats } = setup();
    repeats.learn(press(7), retransmission(3));
    expect(repeats.answer(press(7, 1_790_000_001))).toBeUndefined();
    expect(repeats.answer(press(7))).toBeUndefined(); // forgotten with the different press
    repeats.learn(press(7), retransmission(4));
    expect(repeats.answer(press(8))).toBeUndefined();
    expect(repeats.answer(press(7))).toBeUndefined();
    repeats.learn(press(7), retransmission(5));
    repeats.learn(press(8), { kind: 'joined', alarm: alarm(5), seq: 8 }); // a new press stored meanwhile
    expect(repeats.answer(press(7))).toBeUndefined();
    expect(repeats.takeCounts()).toEqual([]);
  });

  it('never answers an SMS press from memory, nor another device\'s', () => {
    const { repeats } = setup();
    repeats.learn(press(7), retransmission(3));
    expect(repeats.answer(press(7, 1_790_000_000, 'sms'))).toBeUndefined();
    expect(repeats.answer(press(7, 1_790_000_000, 'mqtt', 'btn-2'))).toBeUndefined();
    repeats.learn(press(9, 1_790_000_000, 'sms', 'btn-3'), retransmission(3));
    expect(repeats.answer(press(9, 1_790_000_000, 'mqtt', 'btn-3'))).toBeUndefined();
    repeats.learn(press(8, 1_790_000_000, 'sms'), { kind: 'joined', alarm: alarm(3), seq: 8 }); // a newer press by SMS
    expect(repeats.answer(press(7))).toBeUndefined();
  });

  it('trusts an answer for its keeping time only, and forgets the quiet devices', () => {
    const { repeats, later } = setup();
    repeats.learn(press(7), retransmission(3));
    later(15_000);
    expect(repeats.answer(press(7))).toBeDefined();
    later(1);
    expect(repeats.answer(press(7))).toBeUndefined(); // to the database: the stage may have moved on
    repeats.learn(press(7), retransmission(6));
    repeats.learn(press(3, 1, 'mqtt', 'btn-2'), retransmission(3));
    later(10_000);
    repeats.learn(press(3, 1, 'mqtt', 'btn-2'), retransmission(4));
    later(5_001);
    repeats.prune();
    expect(repeats.size).toBe(1);
  });
});
