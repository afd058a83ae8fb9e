import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import type { DataSource, EntityManager } from 'typeorm';
import { makeAck, type AckMessage, type AckStage, type DevicePath, type Encoding } from '@amr/protocol';
import { secretDigest } from '@amr/security';
import { DATA_SOURCE, DeviceLink, SmsGateway } from '@amr/runtime';
import { queueSms, SmsOutbox, type OutboxQuery, type SmsDue } from './sms-outbox.js';

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
 * An SMS goes through the durable outbox (SmsOutbox): a row written with the press or stage change
 * it reports where the caller has that transaction (queueSms), else right after its commit (send);
 * the outbox's sender posts it, retries it, and appends how it fared to the alarm's timeline.
 * Neither the press nor other devices wait for the gateway, and no crash loses a text once written.
 */
@Injectable()
export class DeviceAcks implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('DeviceAcks');
  private readonly outbox: SmsOutbox;

  constructor(
    @Inject(DATA_SOURCE) private readonly db: DataSource,
    private readonly link: DeviceLink,
    private readonly gateway: SmsGateway,
  ) {
    this.outbox = new SmsOutbox(db, gateway);
  }

  /** Every node with AMR_SMS_GATEWAY_URL sends the outbox (each row is claimed by one node at a time). */
  onApplicationBootstrap(): void {
    if (this.gateway.enabled) this.outbox.start();
  }

  async onModuleDestroy(): Promise<void> {
    await this.outbox.stop();
  }

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
   * Publishes the ack over MQTT (resolves once the broker has it; rejects if it could not) and, if
   * the route has an SMS, writes it to the outbox and wakes the sender: for an ack with no
   * transaction to go with (a press that could not be stored). An ack reporting a change is written
   * to the outbox in that change's transaction instead (queueSms) and sent here over MQTT only.
   */
  async send(deviceId: string, ack: AckMessage, route: AckRoute): Promise<void> {
    const queued = route.sms ? this.queueNow(deviceId, ack, route.sms) : undefined;
    try {
      await this.link.sendAck(deviceId, route.encoding, ack);
    } finally {
      await queued;
    }
  }

  /**
   * Writes the SMS of these acks to the outbox in the caller's transaction (`query` runs in it):
   * they go out once that commits — call smsCommitted() then — and never if it rolls back.
   */
  queueSms(query: OutboxQuery, due: readonly SmsDue[]): Promise<void> {
    return queueSms(query, due);
  }

  /** Texts queued in a transaction that has committed: sent now, not at the next sweep. */
  smsCommitted(): void {
    this.outbox.wake();
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

  private async queueNow(deviceId: string, ack: AckMessage, sms: NonNullable<AckRoute['sms']>): Promise<void> {
    try {
      await queueSms((text, values) => this.db.query(text, values), [{ deviceId, to: sms.to, key: sms.key, ack }]);
      this.outbox.wake();
    } catch (err) {
      this.logger.error(`${deviceId}: SMS ${ack.stage} ack not queued: ${String(err)}`);
    }
  }
}
