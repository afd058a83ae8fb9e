import { Logger } from '@nestjs/common';
import type { AlarmAnnouncer } from '@amr/alarms';
import { KeyedThrottle } from '../ingest/keyed-throttle.js';

/** An open alarm collecting presses is announced at most this often (the CIC sees the count grow). */
export const PRESSED_ANNOUNCE_MS = 1_000;

/**
 * When a press that joins an open alarm is announced (`alarm.pressed`): at most once a second per
 * alarm, with the alarm as it is then, so a button pressed a hundred times costs the CICs one
 * update a second, not a hundred.
 *
 * The first join of an alarm's second is announced by its own transaction: the press store reads
 * the alarm's view under the alarm's lock, and writes the event with the press, so the CICs'
 * streams have it with the commit. The joins that follow within the second are announced together
 * at its end by the AlarmAnnouncer, which reads the alarm as stored then; so is a join whose
 * transaction did not read the view (its alarm's second was running when the batch began).
 */
export class JoinAnnouncements {
  private readonly logger = new Logger('JoinAnnouncements');
  private readonly throttle: KeyedThrottle<true>;

  constructor(announcer: AlarmAnnouncer, intervalMs = PRESSED_ANNOUNCE_MS) {
    this.throttle = new KeyedThrottle<true>(intervalMs, (alarmId) => {
      announcer.announceById(alarmId, 'alarm.pressed').catch((err: unknown) => {
        this.logger.error(`alarm ${alarmId}: press not announced: ${String(err)}`);
      });
    });
  }

  /** Of these open alarms, those a join would announce in its own transaction now: their views are worth reading. */
  due(alarmIds: readonly string[]): string[] {
    return alarmIds.filter((id) => !this.throttle.has(id));
  }

  /**
   * A press joins the alarm in a transaction that read the alarm's view. True: the transaction
   * announces it (and the alarm's second starts now). False: it is folded into the announcement at
   * the end of the alarm's running second.
   */
  claim(alarmId: string): boolean {
    return this.throttle.enter(alarmId, true);
  }

  /** Joins whose transactions did not read their alarm's view, committed: announced now, or at the end of their alarm's second. */
  committed(alarmIds: readonly string[]): void {
    for (const id of alarmIds) this.throttle.call(id, true);
  }

  /** Drops the announcements waiting for their second to end (shutdown). */
  clear(): void {
    this.throttle.clear();
  }
}
