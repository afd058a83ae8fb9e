import { DeviceFlooding } from '@amr/runtime';

interface Waiting {
  readonly start: () => void;
  /** Rejects it without running it (shed), or undefined when it must run whatever happens. */
  readonly drop: ((err: Error) => void) | undefined;
}

interface Lane {
  /** Tasks waiting behind the running one. */
  waiting: Waiting[];
  running: boolean;
  /** The outcome of each keyed task queued or running, by its key. */
  keyed: Map<string, Promise<unknown>>;
  /** Tasks that joined a keyed one instead of running (`key`), until it settles. */
  joined: number;
}

export interface LaneTaskOptions {
  /**
   * The task may be dropped unrun when its device floods (`shed`): true for what the device sends
   * again when it is not answered (an MQTT message without its PUBACK), false for what is answered
   * elsewhere (a press by SMS).
   */
  readonly sheddable?: boolean;
  /**
   * What makes two tasks the same (a message and its retransmission): a task whose key is that of
   * one of the device's tasks still queued or running is not run, but answered with that task's
   * outcome. It still counts towards the bound while it waits.
   */
  readonly key?: string;
  /** Called when the task joined the same one instead of running (to count it). */
  readonly joined?: () => void;
}

/**
 * One lane per device: a device's messages are processed one at a time, in arrival order, while
 * different devices' run concurrently (CONTRACT §2: one device's traffic never delays another's).
 * A lane holds at most `bound` tasks (the running one included): a real button never has more
 * than a handful of unacknowledged messages, so more than that is a flood, refused at once.
 *
 * A message sent again while the first copy is still queued or being processed (a button that got
 * no answer in time retransmits; its client resends on reconnecting) is the same work: it waits
 * for the first copy's outcome instead of being processed once more. A saturated platform is
 * otherwise sent its backlog again every few seconds, and falls further behind.
 */
export class DeviceLanes {
  private readonly lanes = new Map<string, Lane>();

  constructor(private readonly bound: number) {}

  /**
   * Runs `task` after every earlier task of the same device, or answers it with the outcome of the
   * same task (`key`) queued or running; rejects with DeviceFlooding when the lane is full.
   */
  run<T>(deviceId: string, task: () => Promise<T>, options: LaneTaskOptions = {}): Promise<T> {
    if (this.depth(deviceId) >= this.bound) return Promise.reject(new DeviceFlooding(deviceId, this.bound));
    let lane = this.lanes.get(deviceId);
    if (!lane) {
      lane = { waiting: [], running: false, keyed: new Map(), joined: 0 };
      this.lanes.set(deviceId, lane);
    }
    const current = lane;
    const { key } = options;
    const same = key === undefined ? undefined : current.keyed.get(key);
    if (same) {
      options.joined?.();
      current.joined += 1;
      return (same as Promise<T>).finally(() => (current.joined -= 1));
    }
    const outcome = new Promise<T>((resolve, reject) => {
      const start = () => {
        current.running = true;
        task().then(resolve, reject).finally(() => this.next(deviceId, current));
      };
      if (current.running) current.waiting.push({ start, drop: options.sheddable ? reject : undefined });
      else start();
    });
    if (key !== undefined) {
      current.keyed.set(key, outcome);
      const forget = () => {
        if (current.keyed.get(key) === outcome) current.keyed.delete(key);
      };
      outcome.then(forget, forget);
    }
    return outcome;
  }

  /**
   * A flooding device's queued sheddable tasks are dropped unrun (rejected with DeviceFlooding):
   * its connection is being cut, they were never answered, and a real button sends them again on
   * its next connection. What runs now finishes; what must run still does. Returns how many were dropped.
   */
  shed(deviceId: string): number {
    const lane = this.lanes.get(deviceId);
    if (!lane) return 0;
    const dropped = lane.waiting.flatMap((w) => (w.drop ? [w.drop] : []));
    lane.waiting = lane.waiting.filter((w) => !w.drop);
    for (const drop of dropped) drop(new DeviceFlooding(deviceId, this.bound));
    return dropped.length;
  }

  /** Tasks queued or running for the device, and those waiting for the outcome of the same one. */
  depth(deviceId: string): number {
    const lane = this.lanes.get(deviceId);
    return lane ? lane.waiting.length + (lane.running ? 1 : 0) + lane.joined : 0;
  }

  /** Devices with work in progress. */
  get active(): number {
    return this.lanes.size;
  }

  private next(deviceId: string, lane: Lane): void {
    const next = lane.waiting.shift();
    if (next) return next.start();
    lane.running = false;
    // Tasks joined to the last one settle with it, just after: the lane is not kept for them.
    this.lanes.delete(deviceId);
  }
}
