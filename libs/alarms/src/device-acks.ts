import { Inject, Injectable, Logger } from '@nestjs/common';
import type { DataSource, EntityManager } from 'typeorm';
import { encodeSmsAck, makeAck, type AckMessage, type AckStage, type DevicePath, type Encoding } from '@amr/protocol';
import { secretDigest } from '@amr/security';
import { DATA_SOURCE, DeviceLink, SmsGateway } from '@amr/runtime';
import { appendEvent } from './timeline.js';

/** Where a device's acks go: always MQTT (in its encoding), and by SMS too when `sms` is set. */
export interface AckRoute {
  readonly encoding: Encoding;
  /** The device's number and its MAC key, SHA-256 of its secret (CONTRACT §6). */
  readonly sms: { readonly to: string; readonly key: Buffer } | null;
}

/** The paths an ack takes on a route, as the timeline shows them. */
export function ackPaths(route: AckRoute): DevicePath[] {
  return route.sms ? ['mqtt', 'sms'] : ['mqtt'];
}

interface DeviceRouteRow {
  encoding: Encoding;
  msisdn: string | null;
  secret_hash: string;
  connected: boolean;
  connected_at: Date | string | null;
  sms_contact_at: Date | string | null;
}

/**
 * Sends a device its acks, on the path of the moment. Every ack is published over MQTT (QoS 1: a
 * device with a persistent session gets it when it is back, and a SUBSCRIBE replays the current
 * stage). It also goes by SMS when the press came by SMS, or — for a later stage — when the
 * device's newest contact was an SMS press and it has not connected over MQTT since.
 *
 * An SMS goes out in the background with its own retries (SmsGateway), so neither the press nor
 * other devices wait for the gateway; how it fared is appended to the alarm's timeline.
 */
@Injectable()
export class DeviceAcks {
  private readonly logger = new Logger('DeviceAcks');

  constructor(
    @Inject(DATA_SOURCE) private readonly db: DataSource,
    private readonly link: DeviceLink,
    private readonly gateway: SmsGateway,
  ) {}

  /** A press's reply route: its own path (an SMS press is answered by SMS to the registered number). */
  replyRoute(encoding: Encoding, sms: AckRoute['sms']): AckRoute {
    return { encoding, sms: this.gateway.enabled ? sms : null };
  }

  /** The route of a later stage, from what the database says of the device now. */
  async routeOf(deviceId: string, db: EntityManager = this.db.manager): Promise<AckRoute> {
    const [row] = (await db.query(
      `SELECT encoding, msisdn, secret_hash, connected, connected_at, sms_contact_at FROM devices WHERE id = $1`,
      [deviceId],
    )) as DeviceRouteRow[];
    if (!row) return { encoding: 'cbor', sms: null };
    return { encoding: row.encoding, sms: this.bySms(row) };
  }

  /**
   * Publishes the ack over MQTT (resolves once the broker has it; rejects if it could not) and
   * starts its SMS, if the route has one.
   */
  async send(deviceId: string, ack: AckMessage, route: AckRoute): Promise<void> {
    if (route.sms) this.sendSms(deviceId, ack, route.sms);
    await this.link.sendAck(deviceId, route.encoding, ack);
  }

  /** Tells the device its alarm's stage on the route; a failure is logged, the stage stands. */
  async sendStage(alarm: { id: string; deviceId: string; lastSeq: number }, stage: AckStage, route: AckRoute): Promise<void> {
    try {
      await this.send(alarm.deviceId, makeAck(stage, { seq: alarm.lastSeq, alarm: alarm.id }), route);
    } catch (err) {
      this.logger.error(`${alarm.deviceId}: ${stage} ack for alarm ${alarm.id} not sent: ${String(err)}`);
    }
  }

  private bySms(row: DeviceRouteRow): AckRoute['sms'] {
    if (!this.gateway.enabled || !row.msisdn || row.connected || !row.sms_contact_at) return null;
    const smsAt = new Date(row.sms_contact_at).getTime();
    if (row.connected_at && new Date(row.connected_at).getTime() >= smsAt) return null; // back on MQTT since
    const key = secretDigest(row.secret_hash);
    return key ? { to: row.msisdn, key } : null;
  }

  private sendSms(deviceId: string, ack: AckMessage, sms: NonNullable<AckRoute['sms']>): void {
    const text = encodeSmsAck(ack, sms.key);
    void this.gateway.send(sms.to, text).then(async (delivery) => {
      if (!ack.alarm) return;
      const entry = { ack: ack.stage, path: 'sms' satisfies DevicePath, sent: delivery.sent, attempts: delivery.attempts, ...(delivery.sent ? {} : { error: delivery.error }) };
      await this.db.transaction((tx) => appendEvent(tx, ack.alarm!, 'ack', entry));
    }).catch((err: unknown) => this.logger.error(`${deviceId}: SMS ${ack.stage} ack not recorded: ${String(err)}`));
  }
}
