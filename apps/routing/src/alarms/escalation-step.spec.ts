import { describe, expect, it } from '@jest/globals';
import { escalationStep, handsOver } from './escalation-step.js';

const NOW = new Date('2026-11-30T20:00:00Z');
const TIMEOUTS = { deliveryTimeoutS: 30, acceptTimeoutS: 120 };
const inS = (s: number) => new Date(NOW.getTime() + s * 1000);
const undelivered = (escalationLevel: number) => ({ deliveredAt: null, escalationLevel });
const delivered = (escalationLevel: number) => ({ deliveredAt: new Date('2026-11-30T19:59:00Z'), escalationLevel });

describe(escalationStep.name, () => {
  it('first notifies the CIC again, giving it the delivery time once more, when no integration took the alarm', () => {
    expect(escalationStep(undelivered(0), null, TIMEOUTS, NOW)).toEqual({
      kind: 're-notify',
      reason: 'not-delivered',
      level: 1,
      nextEscalationAt: inS(30),
      noBackup: false,
    });
  });

  it('gives a delivered alarm that no operator accepted the acceptance time', () => {
    expect(escalationStep(delivered(0), null, TIMEOUTS, NOW)).toMatchObject({ kind: 're-notify', reason: 'not-accepted', level: 1, nextEscalationAt: inS(120) });
  });

  it('hands the alarm to the backup CIC at the second step, which then has the delivery time to take it', () => {
    for (const alarm of [undelivered(1), delivered(1)]) {
      expect(escalationStep(alarm, 'cic-backup', TIMEOUTS, NOW)).toEqual({
        kind: 'hand-over',
        reason: alarm.deliveredAt ? 'not-accepted' : 'not-delivered',
        level: 2,
        to: 'cic-backup',
        nextEscalationAt: inS(30),
      });
    }
  });

  it('notifies again, and says so, when a hand-over is due but there is no backup CIC to go to', () => {
    expect(escalationStep(delivered(1), null, TIMEOUTS, NOW)).toEqual({
      kind: 're-notify',
      reason: 'not-accepted',
      level: 2,
      nextEscalationAt: inS(120),
      noBackup: true,
    });
  });

  it('never hands over at an odd step, even with a backup CIC', () => {
    expect(escalationStep(undelivered(2), 'cic-backup', TIMEOUTS, NOW)).toMatchObject({ kind: 're-notify', level: 3, noBackup: false });
  });

  it('alternates re-notification and hand-over, level after level', () => {
    const kinds: string[] = [];
    let level = 0;
    for (let i = 0; i < 6; i++) {
      const step = escalationStep(undelivered(level), 'cic-backup', TIMEOUTS, NOW);
      kinds.push(step.kind);
      level = step.level;
    }
    expect(kinds).toEqual(['re-notify', 'hand-over', 're-notify', 'hand-over', 're-notify', 'hand-over']);
    expect([1, 2, 3, 4].map(handsOver)).toEqual([false, true, false, true]);
  });
});
