import { Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import type { AlarmMessage, DownChannel, UpChannel } from '@amr/protocol';
import type { AckRoute } from '@amr/alarms';
import { DeviceFlooding, IngestPort, Metrics, type DeviceIngest } from '@amr/runtime';
import { AlarmPipeline, type PressResult } from '../alarms/alarm.pipeline.js';
import { TelemetryService } from '../telemetry/telemetry.service.js';
import { FloodingAlerts } from '../supervision/flooding-alerts.js';
import { DeviceLanes } from './device-lanes.js';
import { KeyedThrottle } from './keyed-throttle.js';
import { Reminders } from './reminders.js';

/**
 * Messages queued per device at most, the one in progress included. A real button has a press, a
 * position and a heartbeat in flight at worst; aedes hands over every packet of one socket read
 * at once, so a device past this bound is pouring out messages without waiting for PUBACKs.
 */
export const DEVICE_QUEUE_BOUND = 32;

/** A flooding device is reported at most this often. */
export const FLOOD_REPORT_INTERVAL_MS = 10_000;

/** A device's alarm stage is replayed on SUBSCRIBE at most this often. */
export const REMINDER_INTERVAL_MS = 2_000;

/**
 * Where device traffic enters the routing service, called from the broker's hooks in the same
 * process (docs/architecture.md). Every device has its own lane: its messages are handled one at
 * a time in arrival order, different devices' concurrently, and a device that queues more than
 * DEVICE_QUEUE_BOUND is refused (the broker disconnects it), what it had queued is dropped unrun,
 * and it is reported as flooding.
 */
@Injectable()
export class DeviceIntake implements DeviceIngest, OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('DeviceIntake');
  private readonly lanes = new DeviceLanes(DEVICE_QUEUE_BOUND);
  /** A flood is counted and reported once, however many messages it refused (and again if it lasts). */
  private readonly floods = new KeyedThrottle<number>(FLOOD_REPORT_INTERVAL_MS, (deviceId, queued) => {
    this.metrics.devicesFlooding.inc();
    this.flooding.raise(deviceId, queued).catch((e: unknown) => this.logger.error(`${deviceId}: flooding alert not raised: ${String(e)}`));
  });
  private readonly reminders = new KeyedThrottle<readonly DownChannel[]>(
    REMINDER_INTERVAL_MS,
    (deviceId, channels) => this.remind(deviceId, channels),
    (a, b) => [...new Set([...a, ...b])],
  );

  constructor(
    private readonly port: IngestPort,
    private readonly alarms: AlarmPipeline,
    private readonly telemetry: TelemetryService,
    private readonly owed: Reminders,
    private readonly flooding: FloodingAlerts,
    private readonly metrics: Metrics,
  ) {}

  onModuleInit(): void {
    this.port.attach(this);
  }

  async publish(deviceId: string, channel: UpChannel, payload: Buffer): Promise<void> {
    const receivedAt = new Date();
    try {
      // Unanswered, an MQTT message comes again (no PUBACK): it may be dropped if its device floods.
      // A press sent again while its first copy is still on the lane (same bytes: same seq and
      // device time, CONTRACT §3) gets that copy's answer and is not stored twice over.
      await this.lanes.run(deviceId, () => this.dispatch(deviceId, channel, payload, receivedAt), {
        sheddable: true,
        ...(channel === 'alarm' ? { key: payload.toString('latin1'), joined: () => this.metrics.deviceMessagesJoined.inc({ channel }) } : {}),
      });
    } catch (err) {
      if (err instanceof DeviceFlooding) {
        this.metrics.deviceMessagesRejected.inc({ channel, code: 'flooding' });
        this.floods.call(deviceId, err.queued);
        // The device is being cut off: what it queued is dropped, not stored for a connection
        // that is gone (each dropped message is counted here too, as its own refusal).
        this.lanes.shed(deviceId);
      }
      throw err;
    }
  }

  /**
   * A press that came by SMS (SmsIntake), on the device's own lane like its MQTT messages: in this
   * process, one device's presses never share a batch whichever path they took.
   */
  smsPress(deviceId: string, press: AlarmMessage, sms: NonNullable<AckRoute['sms']>): Promise<PressResult> {
    const receivedAt = new Date();
    return this.lanes.run(deviceId, () => this.alarms.handleSms(deviceId, press, sms, receivedAt));
  }

  /**
   * A device listening again (a new session, a loss of coverage, a broker that lost its queued
   * messages) is given what the database says it is owed: the current stage of its open alarm and
   * its unacknowledged commands — at most once every REMINDER_INTERVAL_MS however often it
   * subscribes (the subscriptions in between are answered together at the end of the interval).
   */
  subscribed(deviceId: string, channels: readonly DownChannel[]): void {
    if (!this.reminders.call(deviceId, channels)) this.metrics.remindersSkipped.inc();
  }

  onModuleDestroy(): void {
    this.reminders.clear();
    this.floods.clear();
  }

  private remind(deviceId: string, channels: readonly DownChannel[]): void {
    this.lanes
      // a dropped reminder is given again at the device's next subscription
      .run(deviceId, () => this.owed.remind(deviceId, channels), { sheddable: true })
      .catch((err: unknown) => {
        if (!(err instanceof DeviceFlooding)) this.logger.error(`${deviceId}: reminder not sent: ${String(err)}`);
      });
  }

  private dispatch(deviceId: string, channel: UpChannel, payload: Buffer, receivedAt: Date): Promise<void> {
    switch (channel) {
      case 'alarm':
        return this.alarms.handle(deviceId, payload, receivedAt);
      case 'loc':
        return this.telemetry.onLocation(deviceId, payload);
      case 'status':
        return this.telemetry.onStatus(deviceId, payload);
    }
  }
}
