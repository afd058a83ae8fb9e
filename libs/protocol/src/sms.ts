/**
 * The SMS path (CONTRACT §6): a press or an ack as one text message,
 *
 *   AMR1 <payload>.<mac>
 *
 * `<payload>` is base64url without padding (RFC 4648 §5) of a CBOR map — an alarm (CONTRACT §3)
 * with the extra key `d` (the device id), or an ack — and `<mac>` is base64url of the first 12
 * bytes of HMAC-SHA256 over the CBOR bytes, keyed with SHA-256 of the device secret. At most 160
 * characters: one SMS in the GSM 7-bit alphabet, which holds every character used here.
 *
 * Pure: bytes and text in, a typed value or a ProtocolError out (hashing is computation, not I/O).
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

import { decodeMap, encodePayload } from './codec.js';
import { fail, ok, ProtocolError, type Result } from './errors.js';
import { parseAck, parseAlarm, type AckMessage, type AlarmMessage, type Decoded, type Rejected } from './messages.js';
import { isDeviceId } from './topics.js';

/** The two paths between a button and the platform (CONTRACT §6): a press and an ack each travel one of them. */
export type DevicePath = 'mqtt' | 'sms';

export const SMS_PREFIX = 'AMR1 ';
// CONTRACT §6: at most 160 characters
export const SMS_MAX_LENGTH = 160;
// CONTRACT §6: the first 12 bytes of HMAC-SHA256
export const SMS_MAC_BYTES = 12;
/** base64url of 12 bytes: 16 characters, no padding needed. */
const MAC_CHARS = 16;
/** The CBOR bytes that fit in one text: 160 − "AMR1 " − "." − 16 characters of MAC = 138 base64url characters. */
export const SMS_MAX_PAYLOAD_BYTES = Math.floor(((SMS_MAX_LENGTH - SMS_PREFIX.length - 1 - MAC_CHARS) * 3) / 4);

const SHAPE = /^AMR1 ([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]{16})$/;

/** An SMS text taken apart, its MAC not yet checked. */
export interface SmsEnvelope {
  /** The CBOR bytes the MAC covers. */
  readonly payload: Buffer;
  readonly mac: Buffer;
}

/** A press sent by SMS: the alarm (CONTRACT §3) and the device it names (`d`). */
export interface SmsAlarm {
  readonly deviceId: string;
  readonly press: AlarmMessage;
}

/** CONTRACT §6: the MAC key is SHA-256 of the device secret (which is what the platform stores, CONTRACT §1). */
export function smsKey(secret: string): Buffer {
  return createHash('sha256').update(secret, 'utf8').digest();
}

/** The first 12 bytes of HMAC-SHA256(key, payload). */
export function smsMac(key: Uint8Array, payload: Uint8Array): Buffer {
  return createHmac('sha256', key).update(payload).digest().subarray(0, SMS_MAC_BYTES);
}

/**
 * Takes a text apart without trusting it: prefix, two base64url parts of the right lengths, a
 * payload that is a CBOR map. Surrounding white space (a gateway's trailing newline) is ignored.
 */
export function splitSms(text: string): Result<SmsEnvelope> {
  const trimmed = text.trim();
  if (trimmed.length > SMS_MAX_LENGTH) return fail('oversize', `SMS text of ${trimmed.length} characters exceeds ${SMS_MAX_LENGTH}`);
  const match = SHAPE.exec(trimmed);
  if (!match) return fail('malformed', `not an AMR1 text: expected "AMR1 <payload>.<mac>" in base64url with a ${MAC_CHARS}-character MAC`);
  const [, encodedPayload, encodedMac] = match as unknown as [string, string, string];
  const payload = Buffer.from(encodedPayload, 'base64url');
  // Only the canonical unpadded form: one text, one byte string.
  if (payload.toString('base64url') !== encodedPayload) return fail('malformed', 'the payload is not canonical base64url without padding');
  if (payload.length === 0 || payload[0]! < 0xa0 || payload[0]! > 0xbf) return fail('unknown-encoding', 'the SMS payload must be a CBOR map');
  const mac = Buffer.from(encodedMac, 'base64url');
  if (mac.toString('base64url') !== encodedMac) return fail('malformed', 'the MAC is not canonical base64url without padding');
  return ok({ payload, mac });
}

/** Checks the MAC in constant time. */
export function verifySmsMac(key: Uint8Array, envelope: SmsEnvelope): boolean {
  return envelope.mac.length === SMS_MAC_BYTES && timingSafeEqual(smsMac(key, envelope.payload), envelope.mac);
}

/** `AMR1 <payload>.<mac>` for CBOR bytes; an error when the text would exceed 160 characters. */
export function sealSms(payload: Uint8Array, key: Uint8Array): Result<string> {
  if (payload.length > SMS_MAX_PAYLOAD_BYTES) {
    return fail('oversize', `a CBOR payload of ${payload.length} bytes does not fit one SMS (at most ${SMS_MAX_PAYLOAD_BYTES})`);
  }
  return ok(`${SMS_PREFIX}${Buffer.from(payload).toString('base64url')}.${smsMac(key, payload).toString('base64url')}`);
}

/**
 * A press as an SMS text (what a button sends): the alarm with `d` first. An error when it does not
 * fit; the button then leaves out what it can spare (`cell` first, then `loc.ts`, `loc.src`).
 */
export function encodeSmsAlarm(deviceId: string, alarm: Partial<AlarmMessage> & { seq: number }, key: Uint8Array): Result<string> {
  return sealSms(encodePayload({ d: deviceId, ...alarm }, 'cbor'), key);
}

/** The press in an SMS payload: its device (`d`, CONTRACT §1 id) and the alarm, validated as over MQTT. */
export function parseSmsAlarm(payload: Uint8Array): Decoded<SmsAlarm> | Rejected {
  const decoded = decodeMap(payload);
  if (!decoded.ok) return { ok: false, error: decoded.error, encoding: 'cbor' };
  if (decoded.value.encoding !== 'cbor') return { ok: false, error: new ProtocolError('unknown-encoding', 'the SMS payload must be a CBOR map'), encoding: null };
  const d = decoded.value.map.d;
  if (d === undefined) return { ok: false, error: new ProtocolError('missing-field', 'missing required key "d" (the device id)', 'd'), encoding: 'cbor' };
  if (typeof d !== 'string' || !isDeviceId(d)) return { ok: false, error: new ProtocolError('wrong-type', '"d" must be a device id (CONTRACT §1)', 'd'), encoding: 'cbor' };
  const alarm = parseAlarm(payload);
  if (!alarm.ok) return alarm;
  return { ok: true, message: { deviceId: d, press: alarm.message }, encoding: 'cbor' };
}

/**
 * An ack as an SMS text (what the platform sends). Always fits: a `rejected` reason too long for
 * one text is shortened (an ack with a 36-character alarm id takes about 95 of the 103 bytes).
 */
export function encodeSmsAck(ack: AckMessage, key: Uint8Array): string {
  const whole = sealSms(encodePayload(ack, 'cbor'), key);
  if (whole.ok) return whole.value;
  const reason = ack.reason ?? '';
  for (let keep = reason.length - 1; keep > 0; keep--) {
    const sealed = sealSms(encodePayload({ ...ack, reason: `${reason.slice(0, keep)}...` }, 'cbor'), key);
    if (sealed.ok) return sealed.value;
  }
  const bare: AckMessage = { ...ack };
  delete bare.reason;
  const sealed = sealSms(encodePayload(bare, 'cbor'), key);
  if (!sealed.ok) throw new Error(`an ack does not fit one SMS: ${sealed.error.message}`); // a bug, never input
  return sealed.value;
}

/** Reads an ack text as a button does: shape, MAC, then the ack (CONTRACT §3). */
export function readSmsAck(text: string, key: Uint8Array): Result<AckMessage> {
  const envelope = splitSms(text);
  if (!envelope.ok) return envelope;
  if (!verifySmsMac(key, envelope.value)) return fail('malformed', 'wrong MAC');
  const ack = parseAck(envelope.value.payload);
  return ack.ok ? ok(ack.message) : { ok: false, error: ack.error };
}
