import type { DownChannel, UpChannel } from '@amr/protocol';

/**
 * What the broker hands over of a device's traffic, once the device is authenticated and the topic
 * is its own (the routing service implements it; the broker calls it from its hooks).
 */
export interface DeviceIngest {
  /**
   * A publish on one of the device's up topics. Resolves when the message is dealt with (for a
   * press: stored and answered), and only then is it PUBACKed; rejects with DeviceFlooding when
   * the device has more work queued than a real button ever has.
   */
  publish(deviceId: string, channel: UpChannel, payload: Buffer): Promise<void>;
  /** The device subscribed to some of its down topics (a new session, or after a loss of coverage). */
  subscribed(deviceId: string, channels: readonly DownChannel[]): void;
}

/** A device's queued work went over the bound (CONTRACT §2): it is disconnected and reported. */
export class DeviceFlooding extends Error {
  constructor(readonly deviceId: string, readonly queued: number) {
    super(`${queued} messages already queued`);
  }
}

/**
 * Where the broker finds the device ingest of its process. The routing service attaches itself at
 * start-up; a message arriving before that waits for it.
 */
export class IngestPort implements DeviceIngest {
  private target: DeviceIngest | undefined;
  private readonly ready: Promise<DeviceIngest>;
  private resolveReady!: (target: DeviceIngest) => void;

  constructor() {
    this.ready = new Promise((resolve) => (this.resolveReady = resolve));
  }

  attach(target: DeviceIngest): void {
    this.target = target;
    this.resolveReady(target);
  }

  publish(deviceId: string, channel: UpChannel, payload: Buffer): Promise<void> {
    if (this.target) return this.target.publish(deviceId, channel, payload);
    return this.ready.then((t) => t.publish(deviceId, channel, payload));
  }

  subscribed(deviceId: string, channels: readonly DownChannel[]): void {
    if (this.target) this.target.subscribed(deviceId, channels);
    else void this.ready.then((t) => t.subscribed(deviceId, channels));
  }
}
