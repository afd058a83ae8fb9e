/**
 * Generated device payloads (fast-check) for the codec, intake and broker fuzzers: valid messages
 * of every up topic with the message the platform must read from them, single-field defects of a
 * valid press with the rejection they must cause, and hostile bytes (random, truncated, flipped,
 * deeply nested). One definition, shared by the unit properties and the end-to-end suite.
 */
import fc from 'fast-check';
import {
  ALARM_KINDS,
  MAX_PAYLOAD_BYTES,
  POSITION_SOURCES,
  UINT32_MAX,
  encodePayload,
  type AlarmMessage,
  type Encoding,
  type LocMessage,
  type ProtocolErrorCode,
  type StatusMessage,
} from '@amr/protocol';

/** Cases per property: a share in the normal run, AMR_FUZZ_CASES for a long local run. */
export const FUZZ_CASES = Number(process.env.AMR_FUZZ_CASES || 2_000);
/** AMR_FUZZ_SEED replays a run; printed with the counts. */
export const FUZZ_SEED = Number(process.env.AMR_FUZZ_SEED || Date.now() % 2 ** 31);

export const encodings = fc.constantFrom<Encoding>('cbor', 'json');

const uint32 = fc.integer({ min: 0, max: UINT32_MAX });
const uint = fc.oneof(fc.integer({ min: 0, max: 2 ** 32 }), fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }));
/** A finite double in [min, max], never -0 (JSON cannot carry it). */
const finite = (min: number, max: number) => fc.double({ min, max, noNaN: true, noDefaultInfinity: true }).map((v) => (v === 0 ? 0 : v));

export const position = fc.record(
  {
    lat: finite(-90, 90),
    lon: finite(-180, 180),
    acc: fc.oneof(fc.integer({ min: 0, max: 50_000 }), finite(0, 1e9)),
    ts: uint,
    src: fc.constantFrom(...POSITION_SOURCES),
  },
  { requiredKeys: ['lat', 'lon'] },
);

const cell = fc.record(
  {
    mcc: fc.integer({ min: 0, max: 999 }),
    mnc: fc.integer({ min: 0, max: 999 }),
    tac: uint32,
    cid: uint32,
    rsrp: fc.oneof(fc.integer({ min: -200, max: 0 }), finite(-200, 0)),
  },
  { requiredKeys: [] },
);

const KNOWN_KEYS = new Set(['seq', 'ts', 'kind', 'loc', 'cell', 'bat', 'lat', 'lon', 'acc', 'src', 'rsrp', 'fw', 'mcc', 'mnc', 'tac', 'cid']);

/** Keys a newer firmware might add: ignored, whatever their value (CONTRACT §3). */
const unknownKeys = fc.dictionary(
  fc.string({ minLength: 1, maxLength: 12 }).filter((k) => !KNOWN_KEYS.has(k) && k !== '__proto__'),
  fc.oneof(fc.integer(), fc.string({ maxLength: 20 }), fc.boolean(), fc.constant(null), fc.array(fc.integer(), { maxLength: 4 })),
  { maxKeys: 3 },
);

/** A valid press, as sent and as the platform must read it (`kind` defaults to panic, unknown keys dropped). */
export const validAlarm = fc
  .tuple(
    fc.record(
      { seq: uint32, ts: uint, kind: fc.constantFrom(...ALARM_KINDS), loc: position, cell, bat: fc.integer({ min: 0, max: 100 }) },
      { requiredKeys: ['seq'] },
    ),
    unknownKeys,
  )
  .map(([message, extra]) => ({ sent: { ...extra, ...message } as Record<string, unknown>, expected: { kind: 'panic', ...message } as AlarmMessage }));

export const validLoc = fc
  .tuple(fc.record({ seq: uint32 }), position, unknownKeys)
  .map(([{ seq }, pos, extra]) => ({ sent: { ...extra, seq, ...pos } as Record<string, unknown>, expected: { seq, ...pos } as LocMessage }));

export const validStatus = fc
  .tuple(
    fc.record(
      { seq: uint32, ts: uint, bat: fc.integer({ min: 0, max: 100 }), rsrp: finite(-200, 0), fw: fc.string({ maxLength: 64, unit: 'grapheme-ascii' }), loc: position },
      { requiredKeys: ['seq'] },
    ),
    unknownKeys,
  )
  .map(([message, extra]) => ({ sent: { ...extra, ...message } as Record<string, unknown>, expected: message as StatusMessage }));

/** One defect in an otherwise valid press: where it is, what it must be rejected as. */
export interface AlarmDefect {
  sent: Record<string, unknown>;
  code: ProtocolErrorCode;
  field: string;
  /** the seq the rejected ack must carry (absent when seq itself is the defect) */
  seq?: number;
}

const notANumber = fc.oneof(fc.string({ maxLength: 8 }), fc.boolean(), fc.array(fc.integer(), { maxLength: 2 }), fc.constant({ x: 1 }));
const fraction = fc.double({ min: -1e6, max: 1e6, noNaN: true, noDefaultInfinity: true }).filter((v) => !Number.isInteger(v));

/** [field, bad value, code] for each key of a press (set in a valid press, all else kept). */
const DEFECTS: fc.Arbitrary<[string, unknown, ProtocolErrorCode]> = fc.oneof(
  fc.tuple(fc.constant('seq'), fc.constantFrom(undefined, null), fc.constant<ProtocolErrorCode>('missing-field')),
  fc.tuple(fc.constant('seq'), fc.oneof(notANumber, fraction), fc.constant<ProtocolErrorCode>('wrong-type')),
  fc.tuple(fc.constant('seq'), fc.oneof(fc.integer({ min: -1e9, max: -1 }), fc.integer({ min: UINT32_MAX + 1, max: Number.MAX_SAFE_INTEGER })), fc.constant<ProtocolErrorCode>('out-of-range')),
  fc.tuple(fc.constant('ts'), fc.oneof(notANumber, fraction), fc.constant<ProtocolErrorCode>('wrong-type')),
  fc.tuple(fc.constant('ts'), fc.integer({ min: -1e9, max: -1 }), fc.constant<ProtocolErrorCode>('out-of-range')),
  fc.tuple(fc.constant('kind'), fc.oneof(fc.integer(), fc.boolean()), fc.constant<ProtocolErrorCode>('wrong-type')),
  fc.tuple(fc.constant('kind'), fc.string({ maxLength: 10 }).filter((k) => !(ALARM_KINDS as readonly string[]).includes(k)), fc.constant<ProtocolErrorCode>('out-of-range')),
  fc.tuple(fc.constant('bat'), fc.oneof(notANumber, fraction), fc.constant<ProtocolErrorCode>('wrong-type')),
  fc.tuple(fc.constant('bat'), fc.oneof(fc.integer({ min: 101, max: 1e6 }), fc.integer({ min: -1e6, max: -1 })), fc.constant<ProtocolErrorCode>('out-of-range')),
  fc.tuple(fc.constant('loc'), fc.oneof(fc.string({ maxLength: 8 }), fc.integer(), fc.array(fc.double({ noNaN: true }), { maxLength: 2 })), fc.constant<ProtocolErrorCode>('wrong-type')),
  fc.tuple(fc.constant('loc.lat'), fc.constantFrom(undefined), fc.constant<ProtocolErrorCode>('missing-field')),
  fc.tuple(fc.constant('loc.lat'), fc.oneof(fc.double({ min: 90.000001, max: 1e6, noNaN: true, noDefaultInfinity: true }), fc.double({ min: -1e6, max: -90.000001, noNaN: true, noDefaultInfinity: true })), fc.constant<ProtocolErrorCode>('out-of-range')),
  fc.tuple(fc.constant('loc.lon'), fc.double({ min: 180.000001, max: 1e6, noNaN: true, noDefaultInfinity: true }), fc.constant<ProtocolErrorCode>('out-of-range')),
  fc.tuple(fc.constant('loc.src'), fc.string({ maxLength: 6 }).filter((s) => !(POSITION_SOURCES as readonly string[]).includes(s)), fc.constant<ProtocolErrorCode>('out-of-range')),
  fc.tuple(fc.constant('cell.mcc'), fc.integer({ min: 1000, max: 1e6 }), fc.constant<ProtocolErrorCode>('out-of-range')),
  fc.tuple(fc.constant('cell.rsrp'), fc.oneof(fc.integer({ min: 1, max: 1000 }), fc.integer({ min: -1e6, max: -201 })), fc.constant<ProtocolErrorCode>('out-of-range')),
);

/** A valid press with exactly one key broken: it must be rejected as `code`, naming `field`. */
export const defectiveAlarm: fc.Arbitrary<AlarmDefect> = fc.tuple(validAlarm, DEFECTS).map(([{ sent }, [field, value, code]]) => {
  const copy = structuredClone(sent);
  const [outer, inner] = field.split('.') as [string, string | undefined];
  if (inner === undefined) {
    if (value === undefined) delete copy[outer];
    else copy[outer] = value;
  } else {
    const base = outer === 'loc' ? { lat: 50.85, lon: 4.35 } : {};
    const nested: Record<string, unknown> = { ...base, ...((copy[outer] as Record<string, unknown> | undefined) ?? {}) };
    if (value === undefined) delete nested[inner];
    else nested[inner] = value;
    copy[outer] = nested;
  }
  // the rejected ack carries the seq whenever seq itself is fine (CONTRACT §3 ack)
  const seq = field === 'seq' ? undefined : (copy.seq as number);
  return { sent: copy, code, field, ...(seq === undefined ? {} : { seq }) };
});

/** Bytes a broken or hostile firmware might send: random, or a valid payload cut, flipped or padded. */
export const hostileBytes: fc.Arbitrary<Buffer> = fc.oneof(
  fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b)),
  fc.uint8Array({ minLength: 1, maxLength: 300 }).map((b) => Buffer.from([0xa0 + (b[0]! % 32), ...b.subarray(1)])),
  fc.tuple(validAlarm, encodings, fc.nat(), fc.nat(255)).map(([a, e, at, byte]) => mutate(encodePayload(a.sent, e), 'flip', at, byte)),
  fc.tuple(validAlarm, encodings, fc.nat()).map(([a, e, at]) => mutate(encodePayload(a.sent, e), 'cut', at, 0)),
  fc.tuple(validAlarm, encodings, fc.uint8Array({ minLength: 1, maxLength: 8 })).map(([a, e, tail]) => Buffer.concat([encodePayload(a.sent, e), tail])),
  fc.integer({ min: 1, max: 40 }).map((depth) => Buffer.from('{"a":'.repeat(depth) + '1' + '}'.repeat(depth))),
  fc.integer({ min: 1, max: 40 }).map((depth) => Buffer.from([...Array.from({ length: depth }, () => [0xa1, 0x61, 0x61]).flat(), 0x00])),
  fc.integer({ min: MAX_PAYLOAD_BYTES - 8, max: MAX_PAYLOAD_BYTES + 64 }).map((n) => Buffer.from(`{"seq":1,"pad":"${'x'.repeat(n - 18)}"}`)),
);

function mutate(bytes: Buffer, how: 'flip' | 'cut', at: number, byte: number): Buffer {
  const copy = Buffer.from(bytes);
  if (how === 'cut') return copy.subarray(0, at % copy.length);
  copy[at % copy.length] = byte;
  return copy;
}

/** Any payload for a topic: valid in either encoding, one defect, or hostile bytes. */
export const anyAlarmPayload: fc.Arbitrary<Buffer> = fc.oneof(
  fc.tuple(validAlarm, encodings).map(([a, e]) => encodePayload(a.sent, e)),
  fc.tuple(defectiveAlarm, encodings).map(([d, e]) => encodePayload(d.sent, e)),
  hostileBytes,
);

export const anyLocPayload: fc.Arbitrary<Buffer> = fc.oneof(fc.tuple(validLoc, encodings).map(([l, e]) => encodePayload(l.sent, e)), hostileBytes);
export const anyStatusPayload: fc.Arbitrary<Buffer> = fc.oneof(fc.tuple(validStatus, encodings).map(([s, e]) => encodePayload(s.sent, e)), hostileBytes);
