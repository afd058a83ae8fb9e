/**
 * The bench's bookkeeping of presses at thousands per second: which device pressed which seq
 * when, which ack answered it, retransmissions and timeouts — without a timer or a promise per
 * press. Pure (times are passed in): the bench feeds it sends and acks, and calls sweep()
 * every few tens of milliseconds to retransmit what is due (same seq, as a button does) and to
 * declare lost what got no `received` within the timeout.
 */
import type { AckMessage } from '@amr/protocol';

export interface TrackedPress {
  device: number;
  seq: number;
  /** The press's device time (Unix s): a retransmission repeats it with the seq (CONTRACT §3 alarm). */
  ts: number;
  /** Phase of the run the press belongs to (quiet, flood, storm …). */
  phase: string;
  /** performance.now() of the first publish. */
  sentAt: number;
  retransmissions: number;
  outcome: 'pending' | 'received' | 'rejected' | 'lost' | 'aborted';
  /** First `received` (or `rejected`), performance.now(). */
  answeredAt?: number;
  alarmId?: string;
  /** Other alarm ids acks of this (device, seq) carried: a duplicated press. */
  otherAlarmIds?: string[];
  reason?: string;
  /** Next retransmission (or the deadline when none is left), performance.now(). */
  nextAt: number;
}

/** A numeric key for (device, seq): device index above the 32 bits of seq (exact below 2^21 devices). */
function key(device: number, seq: number): number {
  return device * 4294967296 + seq;
}

export class PressTracker {
  /** Every press, in send order. */
  readonly presses: TrackedPress[] = [];
  private readonly byKey = new Map<number, TrackedPress>();
  private readonly inFlight: Uint16Array;
  /** Pending presses ordered by nextAt (all share one period, so appending keeps the order). */
  private queue: TrackedPress[] = [];
  private head = 0;
  private pendingCount = 0;

  constructor(
    devices: number,
    private readonly options: { timeoutMs: number; retransmitMs: number },
  ) {
    this.inFlight = new Uint16Array(devices);
  }

  /** Presses of a device still waiting for their answer. */
  unanswered(device: number): number {
    return this.inFlight[device]!;
  }

  get pending(): number {
    return this.pendingCount;
  }

  sent(device: number, seq: number, ts: number, at: number, phase: string): TrackedPress {
    const { retransmitMs, timeoutMs } = this.options;
    const press: TrackedPress = { device, seq, ts, phase, sentAt: at, retransmissions: 0, outcome: 'pending', nextAt: at + (retransmitMs > 0 ? Math.min(retransmitMs, timeoutMs) : timeoutMs) };
    this.presses.push(press);
    this.byKey.set(key(device, seq), press);
    this.queue.push(press);
    this.inFlight[device] = this.inFlight[device]! + 1;
    this.pendingCount += 1;
    return press;
  }

  /** An ack on the device's ack topic (CONTRACT §3 ack); acks of presses not made here are ignored. */
  ack(device: number, ack: AckMessage, at: number): TrackedPress | undefined {
    if (ack.seq === undefined) return undefined;
    const press = this.byKey.get(key(device, ack.seq));
    if (!press) return undefined;
    if (ack.alarm !== undefined) {
      if (press.alarmId === undefined) press.alarmId = ack.alarm;
      else if (ack.alarm !== press.alarmId && !press.otherAlarmIds?.includes(ack.alarm)) (press.otherAlarmIds ??= []).push(ack.alarm);
    }
    if (press.outcome === 'pending' && (ack.stage === 'received' || ack.stage === 'rejected')) {
      press.outcome = ack.stage;
      press.answeredAt = at;
      if (ack.reason !== undefined) press.reason = ack.reason;
      this.settle(press);
    }
    return press;
  }

  /**
   * Retransmits (through `resend`) the pending presses whose period has passed, and declares
   * lost those past the timeout. Returns the number retransmitted.
   */
  sweep(now: number, resend: (press: TrackedPress) => void): number {
    const { retransmitMs, timeoutMs } = this.options;
    let resent = 0;
    const later: TrackedPress[] = [];
    while (this.head < this.queue.length && this.queue[this.head]!.nextAt <= now) {
      const press = this.queue[this.head++]!;
      if (press.outcome !== 'pending') continue;
      const deadline = press.sentAt + timeoutMs;
      if (now >= deadline) {
        press.outcome = 'lost';
        this.settle(press);
        continue;
      }
      press.retransmissions += 1;
      resend(press);
      resent += 1;
      press.nextAt = Math.min(now + retransmitMs, deadline);
      later.push(press);
    }
    for (const press of later) this.queue.push(press);
    if (this.head > 4096 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    return resent;
  }

  /** The run is over (interrupted): what is still pending is counted as aborted. */
  abortPending(): void {
    for (const press of this.presses) {
      if (press.outcome === 'pending') {
        press.outcome = 'aborted';
        this.settle(press);
      }
    }
  }

  private settle(press: TrackedPress): void {
    this.inFlight[press.device] = Math.max(0, this.inFlight[press.device]! - 1);
    this.pendingCount -= 1;
  }
}

/**
 * Which device presses next: a fixed shuffled order, skipping devices that still wait for the
 * answer to a press (a button's user waits for the vibration; a device with many unanswered
 * presses would also be taken for a flooding one).
 */
export class DeviceRotation {
  private cursor = 0;

  constructor(
    private readonly order: readonly number[],
    private readonly busy: (device: number) => boolean,
  ) {}

  /** The next free device, or -1 when every device is busy. */
  next(): number {
    const n = this.order.length;
    for (let scanned = 0; scanned < n; scanned++) {
      const device = this.order[this.cursor]!;
      this.cursor = (this.cursor + 1) % n;
      if (!this.busy(device)) return device;
    }
    return -1;
  }
}

/** A shuffled copy of `items` (Fisher–Yates with the run's seeded random). */
export function shuffled<T>(items: readonly T[], random: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}
