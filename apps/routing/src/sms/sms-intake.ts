import { Inject, Injectable } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { parseSmsAlarm, splitSms, verifySmsMac } from '@amr/protocol';
import { secretDigest } from '@amr/security';
import { DATA_SOURCE, Metrics } from '@amr/runtime';
import { DeviceIntake } from '../ingest/device-intake.js';

/** Why an SMS text was refused (no alarm, nothing sent to the device): the metric's label. */
export type SmsRefusal = 'format' | 'unknown-device' | 'inactive' | 'sender' | 'mac' | 'stale';

/** What the gateway is answered. */
export type SmsOutcome =
  | { ok: true; deviceId: string; alarmId: string; outcome: 'new' | 'joined' | 'retransmission'; stage: string }
  | { ok: true; deviceId: string; alarmId: null; outcome: 'rejected'; reason: string }
  | { ok: false; refusal: SmsRefusal; message: string }
  | { ok: false; refusal: 'unavailable'; message: string };

interface DeviceRow {
  id: string;
  active: boolean;
  msisdn: string | null;
  secret_hash: string;
}

/**
 * A text from the SMS gateway (CONTRACT §6), checked in this order: its shape, the device it
 * names, the device's registered number against the sender, the MAC with the stored digest of the
 * device's secret. Only then is it a press, which goes through the same pipeline as an MQTT press
 * (on the device's lane): dedupe on (device, seq) across both paths, route, commit, `received`
 * after the commit — by SMS to that number, and over MQTT. A text whose seq does not move past the
 * device's newest press and is no retransmission of a stored one is a replay, refused.
 */
@Injectable()
export class SmsIntake {
  constructor(
    @Inject(DATA_SOURCE) private readonly db: DataSource,
    private readonly intake: DeviceIntake,
    private readonly metrics: Metrics,
  ) {}

  async receive(from: string, text: string): Promise<SmsOutcome> {
    const outcome = await this.check(from, text);
    this.metrics.smsReceived.inc({ outcome: outcome.ok ? 'pressed' : 'refused' });
    if (!outcome.ok) this.metrics.smsRefused.inc({ reason: outcome.refusal });
    return outcome;
  }

  private async check(from: string, text: string): Promise<SmsOutcome> {
    const envelope = splitSms(text);
    if (!envelope.ok) return refused('format', `Not an AMR1 press: ${envelope.error.message}`);
    const parsed = parseSmsAlarm(envelope.value.payload);
    if (!parsed.ok) return refused('format', `Not a valid press: ${parsed.error.message}`);
    const { deviceId, press } = parsed.message;

    const [device] = (await this.db.query(`SELECT id, active, msisdn, secret_hash FROM devices WHERE id = $1`, [deviceId])) as DeviceRow[];
    if (!device) return refused('unknown-device', `No device ${deviceId}`);
    if (!device.msisdn || device.msisdn !== from) {
      return refused('sender', `Sender ${from} is not the registered number of device ${deviceId} (set it with PATCH /api/v1/devices/${deviceId} {msisdn})`);
    }
    const key = secretDigest(device.secret_hash);
    if (!key) return refused('mac', `Device ${deviceId} has no SMS key yet: it must connect over MQTT once`);
    if (!verifySmsMac(key, envelope.value)) return refused('mac', `Wrong MAC for device ${deviceId}`);
    if (!device.active) return refused('inactive', `Device ${deviceId} is deactivated`);

    const result = await this.intake.smsPress(deviceId, press, { to: device.msisdn, key });
    switch (result.kind) {
      case 'stale':
        return refused('stale', `Press ${press.seq} of device ${deviceId} is not newer than its press ${result.lastSeq} and is no retransmission: a replayed text`);
      case 'unavailable':
        return { ok: false, refusal: 'unavailable', message: 'The press could not be stored just now: send it again' };
      case 'refused':
        return { ok: true, deviceId, alarmId: null, outcome: 'rejected', reason: result.reason };
      default:
        return { ok: true, deviceId, alarmId: result.alarmId, outcome: result.kind, stage: result.stage };
    }
  }
}

function refused(refusal: SmsRefusal, message: string): SmsOutcome {
  return { ok: false, refusal, message };
}
