import { Inject, Injectable, Logger } from '@nestjs/common';
import { Not, type DataSource, type EntityManager } from 'typeorm';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity.js';
import { Alarm, AlarmPosition, AlarmPress, Device, ProtectionCase } from '@amr/persistence';
import { makeAck, parseAlarm, type AlarmMessage, type Encoding } from '@amr/protocol';
import type { AmrConfig } from '@amr/config';
import { AMR_CONFIG, DATA_SOURCE, DeviceLink, Metrics } from '@amr/runtime';
import { AlarmService, appendEvent, startTimeline, type AlarmStage } from '@amr/alarms';
import { CicRouter } from './cic-router.js';

/** What the stored press turned out to be. */
type Outcome =
  | { kind: 'new' | 'joined' | 'retransmission'; alarm: Alarm; seq: number }
  | { kind: 'refused'; seq: number; reason: string };

/**
 * A button press, from bytes to the CIC, in the order that is the design:
 *
 *   validate → dedupe → route → persist → ack → deliver
 *
 * Dedupe, route and persist are one transaction, serialised per device by a row lock, so the
 * stored alarm always has its CIC and a crash leaves either everything or nothing; `received` is
 * published only after the commit (CONTRACT §3 ack). The MQTT ingress PUBACKs the press only when
 * this returns, so a crash before the commit means the broker delivers the press again.
 */
@Injectable()
export class AlarmPipeline {
  private readonly logger = new Logger('AlarmPipeline');

  constructor(
    @Inject(AMR_CONFIG) private readonly config: AmrConfig,
    @Inject(DATA_SOURCE) private readonly db: DataSource,
    private readonly link: DeviceLink,
    private readonly alarms: AlarmService,
    private readonly router: CicRouter,
    private readonly metrics: Metrics,
  ) {}

  async handle(deviceId: string, payload: Buffer): Promise<void> {
    const started = process.hrtime.bigint();
    this.metrics.deviceMessages.inc({ channel: 'alarm' });

    // 1. validate — bad input is answered, counted, and goes no further (CONTRACT §3).
    const parsed = parseAlarm(payload);
    if (!parsed.ok) {
      this.metrics.deviceMessagesRejected.inc({ channel: 'alarm', code: parsed.error.code });
      const encoding = parsed.encoding ?? (await this.alarms.encodingOf(deviceId));
      await this.link.sendAck(deviceId, encoding, makeAck('rejected', { seq: parsed.seq, reason: parsed.error.message }));
      return;
    }
    const { message, encoding } = parsed;

    // 2–4. dedupe → route → persist, in one transaction.
    let outcome: Outcome;
    try {
      outcome = await this.db.transaction((tx) => this.store(tx, deviceId, message, encoding));
    } catch (err) {
      // Nothing was stored: the button is told at once (long vibration) and will press/retransmit
      // again; `received` would be a lie.
      this.logger.error(`${deviceId}: press ${message.seq} not stored: ${String(err)}`);
      this.metrics.deviceMessagesRejected.inc({ channel: 'alarm', code: 'unavailable' });
      await this.link.sendAck(deviceId, encoding, makeAck('rejected', { seq: message.seq, reason: 'platform unavailable: press again' }));
      return;
    }
    if (outcome.kind === 'refused') {
      this.metrics.deviceMessagesRejected.inc({ channel: 'alarm', code: 'refused' });
      await this.link.sendAck(deviceId, encoding, makeAck('rejected', { seq: outcome.seq, reason: outcome.reason }));
      return;
    }
    const { alarm, seq } = outcome;
    this.metrics.presses.inc({ outcome: outcome.kind, kind: message.kind });

    // 5. ack — `received`, and the alarm's later stage if an operator has already moved it.
    await this.link.sendAck(deviceId, encoding, makeAck('received', { seq, alarm: alarm.id }));
    this.metrics.pressToReceived.observe(Number(process.hrtime.bigint() - started) / 1e9);
    if (alarm.stage !== 'received') await this.alarms.notifyDevice(alarm, alarm.stage as AlarmStage, encoding);

    // A new alarm: the button reports its position every locEvery seconds until it is closed.
    if (outcome.kind === 'new') {
      await this.link.sendCommand(deviceId, encoding, { cmd: 'config', locEvery: this.config.alarms.locEveryS }).catch((err: unknown) => {
        this.logger.error(`${deviceId}: location period not sent: ${String(err)}`);
      });
    }

    // 6. deliver — to the integrations of the CIC the alarm was routed to (and of its home CIC).
    if (outcome.kind !== 'retransmission') await this.alarms.announce(alarm, outcome.kind === 'new' ? 'alarm.received' : 'alarm.pressed');
  }

  private async store(tx: EntityManager, deviceId: string, press: AlarmMessage, encoding: Encoding): Promise<Outcome> {
    const now = new Date();
    // Serialises every press of this device, on every routing node, until the commit.
    const device = await tx.findOne(Device, {
      where: { id: deviceId },
      select: { id: true, caseId: true, lastAlarmSeq: true },
      lock: { mode: 'pessimistic_write' },
    });
    if (!device) return { kind: 'refused', seq: press.seq, reason: 'unknown device' };

    // dedupe — the same (device, seq) again is the same press: same alarm id, `received` again.
    const retransmitted = await this.findRetransmission(tx, deviceId, press, now);
    if (retransmitted) {
      await appendEvent(tx, retransmitted.id, 'retransmission', { seq: press.seq }, now);
      await tx.update(Device, { id: deviceId }, deviceUpdate(press, encoding, now));
      return { kind: 'retransmission', alarm: retransmitted, seq: press.seq };
    }

    // A seq that does not move forward (a counter reset, a replaced device) is still an alarm,
    // flagged for the operator (CONTRACT §3 ack).
    const flags = device.lastAlarmSeq != null && press.seq <= device.lastAlarmSeq ? ['unexpected-seq'] : [];

    const open = await tx.findOne(Alarm, { where: { deviceId, stage: Not('closed') } });
    let alarm: Alarm;
    let kind: 'new' | 'joined';
    if (open) {
      // A new press while an alarm is open joins it.
      alarm = Object.assign(open, {
        pressCount: open.pressCount + 1,
        lastSeq: press.seq,
        updatedAt: now,
        flags: [...new Set([...(open.flags ?? []), ...flags])],
      });
      const { pressCount, lastSeq, updatedAt } = alarm;
      await tx.update(Alarm, { id: alarm.id }, { pressCount, lastSeq, updatedAt, flags: alarm.flags });
      await appendEvent(tx, alarm.id, 'press', { seq: press.seq, pressCount, ...(flags.length ? { flags } : {}) }, now);
      kind = 'joined';
    } else {
      // route — by position when it is usable, else the case's home CIC.
      const protectionCase = device.caseId
        ? await tx.findOne(ProtectionCase, { where: { id: device.caseId }, select: { id: true, homeCicId: true } })
        : null;
      if (!protectionCase) {
        this.logger.error(`${deviceId}: press ${press.seq} refused: the device is not assigned to a protection case`);
        return { kind: 'refused', seq: press.seq, reason: 'device not assigned to a protection case' };
      }
      const route = await this.router.route(tx, protectionCase.homeCicId, press.loc, press.ts, now);
      const fields = {
        deviceId,
        caseId: protectionCase.id,
        cicId: route.cicId,
        kind: press.kind,
        stage: 'received' as const,
        pressCount: 1,
        firstSeq: press.seq,
        lastSeq: press.seq,
        flags,
        receivedAt: now,
        updatedAt: now,
        homeCicId: route.homeCicId ?? null,
        nextEscalationAt: new Date(now.getTime() + this.config.alarms.deliveryTimeoutS * 1000),
      };
      const { identifiers } = await tx.insert(Alarm, fields);
      alarm = tx.create(Alarm, { ...fields, id: identifiers[0]!.id as string });
      await startTimeline(tx, alarm.id, [
        { type: 'received', data: { seq: press.seq, ...(press.ts ? { deviceTs: press.ts } : {}), ...(flags.length ? { flags } : {}) } },
        { type: 'routed', data: { ...route } },
      ], now);
      kind = 'new';
    }

    await tx.insert(AlarmPress, { alarmId: alarm.id, deviceId, seq: press.seq, deviceTs: press.ts ?? null, receivedAt: now, message: { ...press } });
    if (press.loc) {
      const { lat, lon, acc, ts, src } = press.loc;
      await tx.insert(AlarmPosition, { alarmId: alarm.id, lat, lon, acc: acc ?? null, ts: ts ?? press.ts ?? null, src: src ?? null, receivedAt: now });
    }
    await tx.update(Device, { id: deviceId }, { ...deviceUpdate(press, encoding, now), lastAlarmSeq: press.seq });
    return { kind, alarm, seq: press.seq };
  }

  /**
   * A press is a retransmission when the device already sent this seq for an alarm that is still
   * open, or within the retransmission window — unless both carry a device time and the times differ
   * (the counter was reset: that is a new press).
   */
  private async findRetransmission(tx: EntityManager, deviceId: string, press: AlarmMessage, now: Date): Promise<Alarm | null> {
    const earlier = await tx.findOne(AlarmPress, {
      where: { deviceId, seq: press.seq },
      select: { alarmId: true, deviceTs: true, receivedAt: true },
      order: { receivedAt: 'DESC' },
    });
    if (!earlier) return null;
    if (earlier.deviceTs != null && press.ts != null && earlier.deviceTs !== press.ts) return null;
    const alarm = await tx.findOne(Alarm, { where: { id: earlier.alarmId } });
    if (!alarm) return null;
    const windowStart = now.getTime() - this.config.alarms.retransmitWindowS * 1000;
    return alarm.stage !== 'closed' || earlier.receivedAt.getTime() >= windowStart ? alarm : null;
  }

}

/** What a press tells about its device: it is alive, where it is, its battery and signal. */
function deviceUpdate(press: AlarmMessage, encoding: Encoding, now: Date): QueryDeepPartialEntity<Device> {
  return {
    encoding,
    lastSeenAt: now,
    ...(press.bat !== undefined ? { battery: press.bat } : {}),
    ...(press.cell?.rsrp !== undefined ? { rsrp: press.cell.rsrp } : {}),
    ...(press.loc ? { lastPosition: { ...press.loc } } : {}),
  };
}
