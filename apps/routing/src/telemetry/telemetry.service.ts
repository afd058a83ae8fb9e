import { Injectable, Logger } from '@nestjs/common';
import { parseLoc, parseStatus } from '@amr/protocol';
import { Metrics, PlatformEvents } from '@amr/runtime';
import { alarmAudience } from '@amr/alarms';
import { TelemetryStore } from './telemetry-store.js';

/**
 * `status` (heartbeat and health) and `loc` (positions while an alarm is open), CONTRACT §3.
 * Invalid messages are counted and logged; only presses get a `rejected` ack. The writes go
 * through TelemetryStore, which stores the messages of the moment together.
 */
@Injectable()
export class TelemetryService {
  private readonly logger = new Logger('Telemetry');

  constructor(
    private readonly store: TelemetryStore,
    private readonly events: PlatformEvents,
    private readonly metrics: Metrics,
  ) {}

  /** A heartbeat: the device's health is updated and the report kept (its history). */
  async onStatus(deviceId: string, payload: Buffer): Promise<void> {
    this.metrics.deviceMessages.inc({ channel: 'status' });
    const parsed = parseStatus(payload);
    if (!parsed.ok) return this.rejected(deviceId, 'status', parsed.error.code, parsed.error.message);
    await this.store.store({ kind: 'status', deviceId, status: parsed.message, encoding: parsed.encoding, receivedAt: new Date() });
  }

  /** A position: the device's last position, and a point on its open alarm's track (announced to the alarm's CICs). */
  async onLocation(deviceId: string, payload: Buffer): Promise<void> {
    this.metrics.deviceMessages.inc({ channel: 'loc' });
    const parsed = parseLoc(payload);
    if (!parsed.ok) return this.rejected(deviceId, 'loc', parsed.error.code, parsed.error.message);
    const { seq, ...position } = parsed.message;
    const alarm = await this.store.store({ kind: 'position', deviceId, position, encoding: parsed.encoding, receivedAt: new Date() });
    if (alarm) {
      void this.events.publish({ type: 'alarm.position', cicIds: alarmAudience(alarm), data: { alarmId: alarm.id, deviceId, seq, ...position } });
    }
  }

  /** Counted and logged; the device is alive all the same (supervision: it spoke). */
  private async rejected(deviceId: string, channel: string, code: string, reason: string): Promise<void> {
    this.metrics.deviceMessagesRejected.inc({ channel, code });
    this.logger.warn(`${deviceId}: ${channel} message rejected: ${reason}`);
    await this.store.store({ kind: 'seen', deviceId, receivedAt: new Date() });
  }
}
