import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';

import {
  SMS_MAX_LENGTH,
  encodePayload,
  encodeSmsAck,
  encodeSmsAlarm,
  makeAck,
  parseSmsAlarm,
  readSmsAck,
  sealSms,
  smsKey,
  smsMac,
  splitSms,
  verifySmsMac,
} from './index.js';

// The example of docs/protocol.md (the SMS path), computed with this fixed secret.
const SECRET = 'k7Qm2xV9pL4sT8wZ1cR6nB3yH5jD0fGa';
const KEY = smsKey(SECRET);
const DEVICE = 'btn-4f2a9c';
const ALARM = { seq: 7, ts: 1795448550, loc: { lat: 51.2194, lon: 4.4025, acc: 20, src: 'gnss' as const }, bat: 81 };
const ALARM_CBOR =
  'a561646a62746e2d34663261396363736571076274731a6b045ee6636c6f63a4636c6174fb40499c154c985f07636c6f6efb40119c28f5c28f5c63616363146373726364676e7373636261741851';
const ALARM_TEXT =
  'AMR1 pWFkamJ0bi00ZjJhOWNjc2VxB2J0cxprBF7mY2xvY6RjbGF0-0BJnBVMmF8HY2xvbvtAEZwo9cKPXGNhY2MUY3NyY2RnbnNzY2JhdBhR.Cf5BHCbOxasPdtMX';
const ALARM_ID = '96ad78e7-3c1b-4e0a-9f5d-2b8c7a1e4d60';
const ACK = makeAck('received', { seq: 7, alarm: ALARM_ID }, 1795448551412);
const ACK_TEXT =
  'AMR1 pWNzZXEHZWFsYXJteCQ5NmFkNzhlNy0zYzFiLTRlMGEtOWY1ZC0yYjhjN2ExZTRkNjBlc3RhZ2VocmVjZWl2ZWRjdmliZXNob3J0YnRzGwAAAaIJErf0.9E1cqlBPFMGG8Ob3';

describe('SMS texts (CONTRACT §6)', () => {
  it('keys the MAC with SHA-256 of the secret', () => {
    expect(KEY.toString('hex')).toBe('2e22ff7c5f2bf5836bb91e7e4ac10d74d7e2d46205e1f214aae8300d3269ca65');
  });

  it('writes a press byte for byte: CBOR with `d`, base64url, a 12-byte HMAC-SHA256', () => {
    const payload = encodePayload({ d: DEVICE, ...ALARM }, 'cbor');
    expect(payload.toString('hex')).toBe(ALARM_CBOR);
    expect(smsMac(KEY, payload).toString('hex')).toBe('09fe411c26cec5ab0f76d317');
    expect(encodeSmsAlarm(DEVICE, ALARM, KEY)).toEqual({ ok: true, value: ALARM_TEXT });
  });

  it('reads that press back: device, alarm, a MAC that verifies', () => {
    const envelope = splitSms(`${ALARM_TEXT}\r\n`);
    if (!envelope.ok) throw envelope.error;
    expect(envelope.value.payload.toString('hex')).toBe(ALARM_CBOR);
    expect(verifySmsMac(KEY, envelope.value)).toBe(true);
    expect(verifySmsMac(smsKey('another secret'), envelope.value)).toBe(false);
    const parsed = parseSmsAlarm(envelope.value.payload);
    expect(parsed).toEqual({ ok: true, encoding: 'cbor', message: { deviceId: DEVICE, press: { ...ALARM, kind: 'panic' } } });
  });

  it('writes and reads an ack byte for byte', () => {
    expect(encodeSmsAck(ACK, KEY)).toBe(ACK_TEXT);
    expect(readSmsAck(ACK_TEXT, KEY)).toEqual({ ok: true, value: ACK });
    const forged = readSmsAck(ACK_TEXT, smsKey('another secret'));
    expect(forged.ok || forged.error.message).toBe('wrong MAC');
  });

  it('keeps every ack within 160 characters, shortening a long rejection reason', () => {
    for (const stage of ['received', 'accepted', 'dispatched', 'closed'] as const) {
      expect(encodeSmsAck(makeAck(stage, { seq: 0xffffffff, alarm: ALARM_ID }), KEY).length).toBeLessThanOrEqual(SMS_MAX_LENGTH);
    }
    const long = makeAck('rejected', { seq: 0xffffffff, alarm: ALARM_ID, reason: 'x'.repeat(200) });
    const text = encodeSmsAck(long, KEY);
    expect(text.length).toBeLessThanOrEqual(SMS_MAX_LENGTH);
    const read = readSmsAck(text, KEY);
    if (!read.ok) throw read.error;
    expect(read.value.reason).toMatch(/^x+\.\.\.$/);
  });

  it('refuses a press that does not fit one text', () => {
    const big = { ...ALARM, cell: { mcc: 206, mnc: 10, tac: 4_000_000_000, cid: 4_000_000_000, rsrp: -113.5 } };
    const result = encodeSmsAlarm('d'.repeat(64), big, KEY);
    expect(result.ok || result.error.code).toBe('oversize');
    expect(sealSms(Buffer.alloc(104, 0xa0), KEY).ok).toBe(false);
    expect(sealSms(Buffer.alloc(103, 0xa0), KEY).ok).toBe(true);
  });

  const [payloadPart, macPart] = ALARM_TEXT.slice(5).split('.') as [string, string];
  it.each([
    ['an empty text', '', 'malformed'],
    ['another prefix', `AMR2 ${payloadPart}.${macPart}`, 'malformed'],
    ['no MAC', `AMR1 ${payloadPart}`, 'malformed'],
    ['a short MAC', `AMR1 ${payloadPart}.${macPart.slice(1)}`, 'malformed'],
    ['standard base64', `AMR1 ${payloadPart.replace('-', '+')}.${macPart}`, 'malformed'],
    ['padding', `AMR1 ${payloadPart}=.${macPart}`, 'malformed'],
    ['a non-canonical last character', `AMR1 oB.${macPart}`, 'malformed'], // "oA" is 0xa0; "oB" has a stray low bit
    ['JSON instead of CBOR', `AMR1 ${Buffer.from('{"d":"btn-1","seq":1}').toString('base64url')}.${macPart}`, 'unknown-encoding'],
    ['over 160 characters', `AMR1 ${'A'.repeat(200)}.${macPart}`, 'oversize'],
  ])('refuses %s', (_what, text, code) => {
    const result = splitSms(text);
    expect(result.ok || result.error.code).toBe(code);
  });

  it.each([
    ['no `d`', { seq: 1 }, 'missing-field'],
    ['a `d` that is no device id', { d: 'a b', seq: 1 }, 'wrong-type'],
    ['a numeric `d`', { d: 12345, seq: 1 }, 'wrong-type'],
    ['no `seq`', { d: DEVICE }, 'missing-field'],
    ['a negative `seq`', { d: DEVICE, seq: -1 }, 'out-of-range'],
  ])('refuses an alarm with %s', (_what, map, code) => {
    const parsed = parseSmsAlarm(encodePayload(map, 'cbor'));
    expect(parsed.ok || parsed.error.code).toBe(code);
  });
});

describe('docs/protocol.md, the SMS path', () => {
  const markdown = readFileSync(new URL('../../../docs/protocol.md', import.meta.url), 'utf8');
  const texts = [...markdown.matchAll(/```sms\n([\s\S]*?)```/g)].map((m) => m[1]!.trim());

  it('shows the press and the ack exactly as the codec writes them for its example secret', () => {
    expect(markdown).toContain(SECRET);
    expect(texts).toEqual([ALARM_TEXT, ACK_TEXT]);
  });
});
