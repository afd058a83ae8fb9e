import type { PressInput, PressOutcome, StoredAlarm } from './press-store.js';

/** The press a device keeps sending, as it was last answered from the database. */
interface Remembered {
  seq: number;
  ts: number | undefined;
  alarm: StoredAlarm;
  /** When it was answered from the database (ms): the snapshot is trusted for `keepMs` from then. */
  at: number;
}

/**
 * Answers a button that keeps sending the same press without the database. Once a press was found
 * stored `timelined` times over — its timeline holds all the retransmission entries it will get
 * (PressStore's TIMELINE_RETRANSMISSIONS), and each further copy only adds 1 to
 * `retransmissions` — its next copies over MQTT, within `keepMs` of that answer and with nothing
 * else from the device in between, get the same answer from memory; the counts are added to the
 * alarms later (`takeCounts`).
 *
 * A saturated node is sent every unanswered press again every few seconds; after a restart most
 * of what it is sent is such copies, each once a database round trip. The stage in the answer is
 * the one read with the last answer from the database, at most `keepMs` old; a change of stage was
 * sent to the device when it happened.
 *
 * An SMS press always goes to the database: its answer is queued in its own transaction.
 */
export class RepeatAnswers {
  private readonly last = new Map<string, Remembered>();
  private readonly counts = new Map<string, number>();

  constructor(
    private readonly timelined: number,
    private readonly keepMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** The answer to `input` from memory, counted; undefined when it must go to the database. */
  answer(input: PressInput): { kind: 'retransmission'; alarm: StoredAlarm; seq: number } | undefined {
    const remembered = this.last.get(input.deviceId);
    if (!remembered || input.path !== 'mqtt') return undefined;
    const same = remembered.seq === input.press.seq && remembered.ts === input.press.ts;
    if (!same || this.now() - remembered.at > this.keepMs) {
      // anything else from the device (a new press) goes to the database, and so does what follows
      this.last.delete(input.deviceId);
      return undefined;
    }
    remembered.alarm.retransmissions += 1;
    this.counts.set(remembered.alarm.id, (this.counts.get(remembered.alarm.id) ?? 0) + 1);
    return { kind: 'retransmission', alarm: { ...remembered.alarm }, seq: input.press.seq };
  }

  /** What the database made of `input`: a copy past its timeline's retransmissions is remembered. */
  learn(input: PressInput, outcome: PressOutcome): void {
    // anything else stored for the device (an SMS press included) is newer than what is remembered
    if (input.path === 'mqtt' && outcome.kind === 'retransmission' && outcome.alarm.retransmissions >= this.timelined) {
      this.last.set(input.deviceId, { seq: input.press.seq, ts: input.press.ts, alarm: { ...outcome.alarm }, at: this.now() });
    } else {
      this.last.delete(input.deviceId);
    }
  }

  /** The copies answered from memory since the last call, per alarm (to add to `retransmissions`). */
  takeCounts(): { id: string; n: number }[] {
    const counts = [...this.counts].map(([id, n]) => ({ id, n }));
    this.counts.clear();
    return counts;
  }

  /** Forgets the presses answered longer than `keepMs` ago (their devices went quiet). */
  prune(): void {
    const oldest = this.now() - this.keepMs;
    for (const [deviceId, remembered] of this.last) if (remembered.at < oldest) this.last.delete(deviceId);
  }

  /** Devices whose press is remembered. */
  get size(): number {
    return this.last.size;
  }
}
