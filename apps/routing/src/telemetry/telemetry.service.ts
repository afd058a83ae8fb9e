import { Inject, Injectable, Logger } from '@nestjs/common';
import { Not, type DataSource } from 'typeorm';
import { Alarm, AlarmPosition, Device, DeviceStatusReport } from '@amr/persistence';
import { parseLoc, parseStatus, type Encoding, type Position } from '@amr/protocol';
import { DATA_SOURCE, Metrics, PlatformEvents } from '@amr/runtime';
import { alarmAudience } from '@amr/alarms';

/**
 * `status` (heartbeat and health) and `loc` (positions while an alarm is open), CONTRACT §3.
 * Invalid messages are counted and logged; only presses get a `rejected` ack.
 */
@Injectable()
export class TelemetryService {
  private readonly logger = new Logger('Telemetry');

  constructor(
    @Inject(DATA_SOURCE) private readonly db: DataSource,
    private readonly events: PlatformEvents,
    private readonly metrics: Metrics,
  ) {}

  /** A heartbeat: the device's health is updated and the report kept (its history). */
  async onStatus(deviceId: string, payload: Buffer): Promise<void> {
    this.metrics.deviceMessages.inc({ channel: 'status' });
    const parsed = parseStatus(payload);
    if (!parsed.ok) return this.rejected(deviceId, 'status', parsed.error.code, parsed.error.message);
    const { message, encoding } = parsed;
    const now = new Date();
    await this.db.transaction(async (tx) => {
      await tx.update(
        Device,
        { id: deviceId },
        {
          lastSeenAt: now,
          encoding,
          ...(message.bat !== undefined ? { battery: message.bat } : {}),
          ...(message.rsrp !== undefined ? { rsrp: message.rsrp } : {}),
          ...(message.fw !== undefined ? { fw: message.fw } : {}),
          ...(message.loc ? { lastPosition: { ...message.loc } } : {}),
        },
      );
      await tx.insert(DeviceStatusReport, {
        deviceId,
        receivedAt: now,
        seq: message.seq,
        ts: message.ts ?? null,
        battery: message.bat ?? null,
        rsrp: message.rsrp ?? null,
        fw: message.fw ?? null,
        position: message.loc ? { ...message.loc } : null,
      });
    });
  }

  async onLocation(deviceId: string, payload: Buffer): Promise<void> {
    this.metrics.deviceMessages.inc({ channel: 'loc' });
    const parsed = parseLoc(payload);
    if (!parsed.ok) return this.rejected(deviceId, 'loc', parsed.error.code, parsed.error.message);
    const { seq, ...position } = parsed.message;
    const alarm = await this.storePosition(deviceId, position, parsed.encoding);
    if (alarm) {
      this.events.publish({ type: 'alarm.position', cicIds: alarmAudience(alarm), data: { alarmId: alarm.id, deviceId, seq, ...position } });
    }
  }

  private storePosition(deviceId: string, position: Position, encoding: Encoding): Promise<Alarm | null> {
    return this.db.transaction(async (tx) => {
      const now = new Date();
      await tx.update(Device, { id: deviceId }, { lastSeenAt: now, lastPosition: { ...position }, encoding });
      const alarm = await tx.findOne(Alarm, { where: { deviceId, stage: Not('closed') } });
      if (!alarm) return null;
      const { lat, lon, acc, ts, src } = position;
      await tx.insert(AlarmPosition, { alarmId: alarm.id, lat, lon, acc: acc ?? null, ts: ts ?? null, src: src ?? null, receivedAt: now });
      return alarm;
    });
  }

  /** Counted and logged; the device is alive all the same (supervision: it spoke). */
  private async rejected(deviceId: string, channel: string, code: string, reason: string): Promise<void> {
    this.metrics.deviceMessagesRejected.inc({ channel, code });
    this.logger.warn(`${deviceId}: ${channel} message rejected: ${reason}`);
    await this.db.getRepository(Device).update({ id: deviceId }, { lastSeenAt: new Date() });
  }
}
