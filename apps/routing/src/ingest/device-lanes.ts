import { DeviceFlooding } from '@amr/runtime';

interface Lane {
  /** Tasks waiting behind the running one. */
  readonly waiting: (() => void)[];
  running: boolean;
}

/**
 * One lane per device: a device's messages are processed one at a time, in arrival order, while
 * different devices' run concurrently (CONTRACT §2: one device's traffic never delays another's).
 * A lane holds at most `bound` tasks (the running one included): a real button never has more
 * than a handful of unacknowledged messages, so more than that is a flood, refused at once.
 */
export class DeviceLanes {
  private readonly lanes = new Map<string, Lane>();

  constructor(private readonly bound: number) {}

  /** Runs `task` after every earlier task of the same device; rejects with DeviceFlooding when the lane is full. */
  run<T>(deviceId: string, task: () => Promise<T>): Promise<T> {
    if (this.depth(deviceId) >= this.bound) return Promise.reject(new DeviceFlooding(deviceId, this.bound));
    let lane = this.lanes.get(deviceId);
    if (!lane) {
      lane = { waiting: [], running: false };
      this.lanes.set(deviceId, lane);
    }
    const current = lane;
    return new Promise<T>((resolve, reject) => {
      const start = () => {
        current.running = true;
        task().then(resolve, reject).finally(() => this.next(deviceId, current));
      };
      if (current.running) current.waiting.push(start);
      else start();
    });
  }

  /** Tasks queued or running for the device. */
  depth(deviceId: string): number {
    const lane = this.lanes.get(deviceId);
    return lane ? lane.waiting.length + (lane.running ? 1 : 0) : 0;
  }

  /** Devices with work in progress. */
  get active(): number {
    return this.lanes.size;
  }

  private next(deviceId: string, lane: Lane): void {
    const start = lane.waiting.shift();
    if (start) return start();
    lane.running = false;
    this.lanes.delete(deviceId);
  }
}
