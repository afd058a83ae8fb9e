/** Why an alarm is escalated: no integration of its CIC has it yet, or no operator accepted it. */
export type EscalationReason = 'not-delivered' | 'not-accepted';

/** The next escalation step of an open alarm whose deadline has passed. */
export type EscalationStep =
  | { readonly kind: 'hand-over'; readonly reason: EscalationReason; readonly level: number; readonly to: string; readonly nextEscalationAt: Date }
  | { readonly kind: 're-notify'; readonly reason: EscalationReason; readonly level: number; readonly nextEscalationAt: Date; readonly noBackup: boolean };

export interface EscalationTimeouts {
  /** Time given to a CIC's integrations to take the alarm (AMR_DELIVERY_TIMEOUT_S). */
  readonly deliveryTimeoutS: number;
  /** Time given to an operator to accept a delivered alarm (AMR_ACCEPT_TIMEOUT_S). */
  readonly acceptTimeoutS: number;
}

/** Steps alternate: odd levels notify the CIC again, even levels hand the alarm to its backup CIC. */
export function handsOver(level: number): boolean {
  return level % 2 === 0;
}

/**
 * The step after `alarm.escalationLevel`, given the backup CIC it may go to (null: none, or it was
 * there already). A hand-over restarts the clock of delivery at the new CIC; a re-notification
 * gives the CIC the time of the stage it has not reached yet.
 */
export function escalationStep(
  alarm: { readonly deliveredAt: Date | null; readonly escalationLevel: number },
  backup: string | null,
  timeouts: EscalationTimeouts,
  now: Date,
): EscalationStep {
  const reason: EscalationReason = alarm.deliveredAt ? 'not-accepted' : 'not-delivered';
  const level = alarm.escalationLevel + 1;
  const after = (seconds: number) => new Date(now.getTime() + seconds * 1000);
  if (backup && handsOver(level)) return { kind: 'hand-over', reason, level, to: backup, nextEscalationAt: after(timeouts.deliveryTimeoutS) };
  const timeoutS = alarm.deliveredAt ? timeouts.acceptTimeoutS : timeouts.deliveryTimeoutS;
  return { kind: 're-notify', reason, level, nextEscalationAt: after(timeoutS), noBackup: handsOver(level) };
}
