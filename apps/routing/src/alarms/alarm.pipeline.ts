import { Inject, Injectable, Logger } from '@nestjs/common';
import { makeAck, parseAlarm, type AlarmMessage, type DevicePath } from '@amr/protocol';
import type { AmrConfig } from '@amr/config';
import { AMR_CONFIG, DeviceCommands, Metrics } from '@amr/runtime';
import { DeviceAcks, ackPaths, type AckRoute } from '@amr/alarms';
import { PressStore, type PressOutcome } from './press-store.js';

/** What became of a press, for a caller that answers someone other than the device (the SMS gateway). */
export type PressResult =
  | { kind: 'new' | 'joined' | 'retransmission'; alarmId: string; stage: string }
  | { kind: 'refused'; reason: string }
  | { kind: 'stale'; lastSeq: number }
  | { kind: 'unavailable' };

/**
 * A button press, from bytes to the CIC, in the order that is the design:
 *
 *   validate → dedupe → route → persist → ack → deliver
 *
 * The broker runs this inside its publish hook, on the device's own lane: a device's presses are
 * handled one at a time and in order, different devices' concurrently, and the device's PUBACK is
 * sent only when this returns — after the commit. A crash before the commit leaves the press
 * unacknowledged, so the device sends it again, and the (device, seq) dedupe keeps it one alarm.
 *
 * A press that came by SMS (checked by SmsIntake) enters at step 2 and is answered on its own path
 * too (DeviceAcks): one pipeline, so (device, seq) is one press whichever path brought it.
 *
 * Dedupe, route and persist happen in PressStore, which stores the presses arriving together in
 * one transaction (group commit); each press is still decided and answered on its own. `received`
 * is published only after the commit (CONTRACT §3 ack).
 */
@Injectable()
export class AlarmPipeline {
  private readonly logger = new Logger('AlarmPipeline');
  constructor(
    @Inject(AMR_CONFIG) private readonly config: AmrConfig,
    private readonly commands: DeviceCommands,
    private readonly store: PressStore,
    private readonly acks: DeviceAcks,
    private readonly metrics: Metrics,
  ) {}

  /** A press published over MQTT: answered over MQTT, in its encoding. */
  async handle(deviceId: string, payload: Buffer, receivedAt = new Date()): Promise<void> {
    this.metrics.deviceMessages.inc({ channel: 'alarm' });

    // 1. validate — bad input is answered, counted, and goes no further (CONTRACT §3).
    const parsed = parseAlarm(payload);
    if (!parsed.ok) {
      this.metrics.deviceMessagesRejected.inc({ channel: 'alarm', code: parsed.error.code });
      // Answered in the press's encoding, or the device's if the bytes do not tell.
      const encoding = parsed.encoding ?? (await this.acks.routeOf(deviceId)).encoding;
      await this.acks.send(deviceId, makeAck('rejected', { seq: parsed.seq, reason: parsed.error.message }), this.acks.replyRoute(encoding, null));
      return;
    }
    await this.process(deviceId, parsed.message, { path: 'mqtt', reply: this.acks.replyRoute(parsed.encoding, null) }, receivedAt);
  }

  /**
   * A press that came by SMS, its text and sender already checked (SmsIntake): the same steps from
   * dedupe on, answered by SMS to the device's number and over MQTT. Resolves with what became of
   * it; `stale` is a replayed text (nothing stored, nothing sent).
   */
  handleSms(deviceId: string, press: AlarmMessage, sms: NonNullable<AckRoute['sms']>, receivedAt = new Date()): Promise<PressResult> {
    this.metrics.deviceMessages.inc({ channel: 'sms' });
    return this.process(deviceId, press, { path: 'sms', reply: this.acks.replyRoute('cbor', sms) }, receivedAt);
  }

  private async process(deviceId: string, press: AlarmMessage, via: { path: DevicePath; reply: AckRoute }, receivedAt: Date): Promise<PressResult> {
    const started = process.hrtime.bigint();
    const { reply } = via;
    const channel = via.path === 'sms' ? 'sms' : 'alarm';

    // 2–4. dedupe → route → persist, committed with the other presses of the moment.
    let outcome: PressOutcome;
    try {
      outcome = await this.store.store({ deviceId, press, encoding: reply.encoding, receivedAt, path: via.path, acks: ackPaths(reply), sms: reply.sms });
    } catch (err) {
      // Nothing was stored: the button is told at once (long vibration) and will press/retransmit
      // again; `received` would be a lie.
      this.logger.error(`${deviceId}: press ${press.seq} not stored: ${String(err)}`);
      this.metrics.deviceMessagesRejected.inc({ channel, code: 'unavailable' });
      await this.acks.send(deviceId, makeAck('rejected', { seq: press.seq, reason: 'platform unavailable: press again' }), reply);
      return { kind: 'unavailable' };
    }
    const mqtt: AckRoute = { ...reply, sms: null }; // the SMS answers were queued with the press (PressStore)
    if (outcome.kind === 'stale') {
      this.metrics.deviceMessagesRejected.inc({ channel, code: 'stale' });
      return { kind: 'stale', lastSeq: outcome.lastSeq };
    }
    if (outcome.kind === 'refused') {
      this.metrics.deviceMessagesRejected.inc({ channel, code: 'refused' });
      await this.acks.send(deviceId, makeAck('rejected', { seq: outcome.seq, reason: outcome.reason }), mqtt);
      return { kind: 'refused', reason: outcome.reason };
    }
    const { alarm, seq } = outcome;
    this.metrics.presses.inc({ outcome: outcome.kind, kind: press.kind });

    // 5. ack — `received`, and the alarm's later stage if an operator has already moved it.
    await this.acks.send(deviceId, makeAck('received', { seq, alarm: alarm.id }), mqtt);
    this.metrics.pressToReceived.observe(Number(process.hrtime.bigint() - started) / 1e9);
    if (alarm.stage !== 'received') await this.acks.sendStage(alarm, alarm.stage, mqtt);

    // 6. deliver — to the integrations of the CIC the alarm was routed to (and of its home CIC).
    // `alarm.received` was written to the event log with a new alarm, and `alarm.pressed` with a
    // press joining one (at most once a second per alarm; JoinAnnouncements): the streams have them.
    // A retransmission is the same press: the CICs already have it.
    if (outcome.kind === 'new') {
      // The button reports its position every locEvery seconds until the alarm is closed.
      await this.commands.sendUnstored(deviceId, reply.encoding, { cmd: 'config', locEvery: this.config.alarms.locEveryS });
    }
    return { kind: outcome.kind, alarmId: alarm.id, stage: alarm.stage };
  }
}
