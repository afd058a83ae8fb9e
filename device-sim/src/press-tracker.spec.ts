import { describe, expect, it } from '@jest/globals';
import type { AckMessage } from '@amr/protocol';
import { DeviceRotation, PressTracker, shuffled } from './press-tracker.js';

const ack = (seq: number, stage: AckMessage['stage'], alarm?: string): AckMessage =>
  ({ seq, stage, vib: stage === 'received' ? 'short' : 'none', ...(alarm ? { alarm } : {}) }) as AckMessage;

describe(PressTracker.name, () => {
  it('matches a "received" ack to its (device, seq) and frees the device', () => {
    const t = new PressTracker(3, { timeoutMs: 30_000, retransmitMs: 5000 });
    const p = t.sent(1, 1_000_000, 1_700_000_000, 100, 'load');
    expect(t.unanswered(1)).toBe(1);
    expect(t.pending).toBe(1);
    expect(t.ack(0, ack(1_000_000, 'received', 'a1'), 105)).toBeUndefined(); // another device's seq space
    t.ack(1, ack(1_000_000, 'received', 'a1'), 101.5);
    expect(p).toMatchObject({ outcome: 'received', answeredAt: 101.5, alarmId: 'a1' });
    expect(t.unanswered(1)).toBe(0);
    expect(t.pending).toBe(0);
  });

  it('ignores acks of presses it did not send and the later stages', () => {
    const t = new PressTracker(1, { timeoutMs: 30_000, retransmitMs: 5000 });
    expect(t.ack(0, ack(7, 'received', 'x'), 1)).toBeUndefined();
    const p = t.sent(0, 8, 0, 0, 'load');
    t.ack(0, ack(8, 'accepted', 'a'), 5);
    expect(p.outcome).toBe('pending');
    expect(p.alarmId).toBe('a');
  });

  it('marks a press duplicated when an ack of the same (device, seq) carries another alarm id, even after "received"', () => {
    const t = new PressTracker(1, { timeoutMs: 30_000, retransmitMs: 5000 });
    const p = t.sent(0, 5, 0, 0, 'load');
    t.ack(0, ack(5, 'received', 'a'), 1);
    t.ack(0, ack(5, 'received', 'a'), 2); // the answer to a retransmission: the same alarm
    expect(p.otherAlarmIds).toBeUndefined();
    t.ack(0, ack(5, 'received', 'b'), 3);
    t.ack(0, ack(5, 'received', 'b'), 4);
    expect(p.otherAlarmIds).toEqual(['b']);
  });

  it('takes a "rejected" ack as the answer, with its reason', () => {
    const t = new PressTracker(1, { timeoutMs: 30_000, retransmitMs: 5000 });
    const p = t.sent(0, 5, 0, 0, 'load');
    t.ack(0, { seq: 5, stage: 'rejected', vib: 'long', reason: 'bad' } as AckMessage, 2);
    expect(p).toMatchObject({ outcome: 'rejected', reason: 'bad' });
    expect(t.pending).toBe(0);
  });

  it('retransmits the same seq and ts every period until the answer, then declares the press lost at the timeout', () => {
    const t = new PressTracker(2, { timeoutMs: 12_000, retransmitMs: 5000 });
    const lost = t.sent(0, 1, 111, 0, 'load');
    const answered = t.sent(1, 1, 222, 10, 'load');
    const resent: Array<[number, number, number]> = [];
    const resend = (p: { device: number; seq: number; ts: number }) => resent.push([p.device, p.seq, p.ts]);
    expect(t.sweep(4999, resend)).toBe(0);
    expect(t.sweep(5010, resend)).toBe(2);
    expect(resent).toEqual([[0, 1, 111], [1, 1, 222]]);
    t.ack(1, ack(1, 'received', 'a'), 6000);
    expect(t.sweep(10_010, resend)).toBe(1); // only the unanswered one
    expect(t.sweep(11_999, resend)).toBe(0);
    t.sweep(12_000, resend);
    expect(lost).toMatchObject({ outcome: 'lost', retransmissions: 2 });
    expect(answered).toMatchObject({ outcome: 'received', retransmissions: 1 });
    expect(t.unanswered(0)).toBe(0);
    expect(t.pending).toBe(0);
  });

  it('never retransmits with a zero period, and still times out', () => {
    const t = new PressTracker(1, { timeoutMs: 1000, retransmitMs: 0 });
    const p = t.sent(0, 1, 0, 0, 'load');
    const resend = () => {
      throw new Error('no retransmission expected');
    };
    t.sweep(999, resend);
    t.sweep(1000, resend);
    expect(p.outcome).toBe('lost');
  });

  it('counts what is pending at an interruption as aborted', () => {
    const t = new PressTracker(1, { timeoutMs: 1000, retransmitMs: 0 });
    const p = t.sent(0, 1, 0, 0, 'load');
    t.abortPending();
    expect(p.outcome).toBe('aborted');
    expect(t.pending).toBe(0);
  });

  it('keeps up with many presses (the queue is compacted as it drains)', () => {
    const t = new PressTracker(10_000, { timeoutMs: 100, retransmitMs: 0 });
    for (let i = 0; i < 50_000; i++) t.sent(i % 10_000, 1 + Math.floor(i / 10_000), 0, i / 10, 'load');
    for (let now = 0; now <= 5200; now += 50) t.sweep(now, () => undefined);
    expect(t.pending).toBe(0);
    expect(t.presses.every((p) => p.outcome === 'lost')).toBe(true);
  });
});

describe(DeviceRotation.name, () => {
  it('goes round the order, skipping busy devices, and says when every device is busy', () => {
    const busy = new Set<number>([1]);
    const r = new DeviceRotation([2, 0, 1], (d) => busy.has(d));
    expect([r.next(), r.next(), r.next()]).toEqual([2, 0, 2]);
    busy.add(0).add(2);
    expect(r.next()).toBe(-1);
    busy.delete(1);
    expect(r.next()).toBe(1);
  });
});

describe('shuffled', () => {
  it('returns a permutation and leaves its input alone', () => {
    const items = Array.from({ length: 100 }, (_, i) => i);
    let x = 1;
    const out = shuffled(items, () => ((x = (x * 16807) % 2147483647) / 2147483647));
    expect([...out].sort((a, b) => a - b)).toEqual(items);
    expect(out).not.toEqual(items);
    expect(items[0]).toBe(0);
  });
});
