import { describe, expect, it } from '@jest/globals';
import { ALARM_STAGES, type AlarmStage } from '@amr/protocol';
import { TRANSITIONS, mayBecome } from './stage-transitions.js';

/** The stages an operator may move an alarm at `from` to, in the order of the lifecycle. */
const nextStages = (from: AlarmStage) => ALARM_STAGES.filter((to) => mayBecome(from, to));

describe('alarm stage transitions', () => {
  it('lets an operator only move an alarm forward: accept, dispatch (accepting it), close', () => {
    expect(Object.fromEntries(ALARM_STAGES.map((from) => [from, nextStages(from)]))).toEqual({
      received: ['accepted', 'dispatched', 'closed'],
      accepted: ['dispatched', 'closed'],
      dispatched: ['closed'],
      closed: [],
    });
  });

  it('never moves an alarm back, nor to the stage it already has', () => {
    for (const [i, from] of ALARM_STAGES.entries()) {
      for (const to of ALARM_STAGES.slice(0, i + 1)) expect([from, to, mayBecome(from, to)]).toEqual([from, to, false]);
    }
  });

  it('keeps `received` for a press: it is no stage an operator can set', () => {
    expect(Object.keys(TRANSITIONS).sort()).toEqual(['accepted', 'closed', 'dispatched']);
    for (const from of ALARM_STAGES) expect(mayBecome(from, 'received')).toBe(false);
  });

  it('names, for a refusal, the stages a change is allowed from', () => {
    expect(TRANSITIONS.accepted.join(', ')).toBe('received');
    expect(TRANSITIONS.dispatched.join(', ')).toBe('received, accepted');
    expect(TRANSITIONS.closed.join(', ')).toBe('received, accepted, dispatched');
  });
});
