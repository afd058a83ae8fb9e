import type { AlarmStage } from '@amr/protocol';

/** A stage an operator may move an alarm to: every stage but the one a press creates. */
export type OperatorStage = Exclude<AlarmStage, 'received'>;

/** Stage changes an operator may make, and from which stages (CONTRACT §3 ack). */
export const TRANSITIONS: Record<OperatorStage, readonly AlarmStage[]> = {
  accepted: ['received'],
  dispatched: ['received', 'accepted'],
  closed: ['received', 'accepted', 'dispatched'],
};

/** Whether an operator may move an alarm from stage `from` to stage `to`. */
export function mayBecome(from: AlarmStage, to: AlarmStage): boolean {
  return to !== 'received' && TRANSITIONS[to].includes(from);
}
