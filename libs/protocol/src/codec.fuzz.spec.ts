import { afterAll, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { MAX_REASON_LENGTH, decodeMap, encodePayload, parseAlarm, parseLoc, parseStatus, type ProtocolErrorCode, type Rejected } from './index.js';
import {
  FUZZ_CASES,
  FUZZ_SEED,
  anyAlarmPayload,
  anyLocPayload,
  anyStatusPayload,
  defectiveAlarm,
  encodings,
  hostileBytes,
  validAlarm,
  validLoc,
  validStatus,
} from '../../../test/support/payload-arbitraries.js';

/**
 * Properties of the codecs over generated payloads (CONTRACT §3): a parser never throws, reads
 * every valid message exactly as it was sent in either encoding, rejects every defect with the
 * right code and a reason naming the key, and answers hostile bytes with a typed rejection.
 * FUZZ_CASES per property (AMR_FUZZ_CASES; 2,000 in the normal run).
 */
const CODES: readonly ProtocolErrorCode[] = ['empty', 'oversize', 'unknown-encoding', 'malformed', 'not-a-map', 'missing-field', 'wrong-type', 'out-of-range'];
const params = { numRuns: FUZZ_CASES, seed: FUZZ_SEED };
let cases = 0;

function wellFormedRejection(result: Rejected): void {
  expect(CODES).toContain(result.error.code);
  expect(result.error.message.length).toBeGreaterThan(0);
  expect(result.error.message.length).toBeLessThanOrEqual(MAX_REASON_LENGTH);
  expect(result.error.message).toMatch(/^[\x20-\x7e]+$/);
  if (result.seq !== undefined) expect(Number.isInteger(result.seq) && result.seq >= 0 && result.seq <= 0xffffffff).toBe(true);
}

/** A JSON-compatible value without -0 (JSON cannot carry it) and without `__proto__` keys (checked apart). */
const value = fc.letrec((tie) => ({
  leaf: fc.oneof(fc.string({ maxLength: 12 }), fc.boolean(), fc.constant(null), fc.maxSafeInteger(), fc.double({ noNaN: true, noDefaultInfinity: true }).map((v) => (v === 0 ? 0 : v))),
  node: fc.oneof({ depthSize: 'small', maxDepth: 5 }, tie('leaf'), fc.array(tie('node'), { maxLength: 4 }), fc.dictionary(fc.string({ maxLength: 6 }).filter((k) => k !== '__proto__'), tie('node'), { maxKeys: 4 })),
})).node;
const topLevelMap = fc.dictionary(fc.string({ maxLength: 8 }).filter((k) => k !== '__proto__'), value, { maxKeys: 8 });

describe('codec properties', () => {
  afterAll(() => {
    process.stdout.write(`codec fuzz: ${cases} generated cases (seed ${FUZZ_SEED}), all properties held\n`);
  });

  it('round-trips any map, encode → decode, in both encodings (or refuses it as oversize)', () => {
    fc.assert(
      fc.property(topLevelMap, encodings, (map, encoding) => {
        cases++;
        const bytes = encodePayload(map, encoding);
        const decoded = decodeMap(bytes);
        if (bytes.length > 1024) return expect(decoded.ok || decoded.error.code).toBe('oversize');
        expect(decoded).toEqual({ ok: true, value: { map, encoding } });
      }),
      params,
    );
  });

  it('reads every valid press exactly as sent, in both encodings, ignoring unknown keys', () => {
    fc.assert(
      fc.property(validAlarm, encodings, ({ sent, expected }, encoding) => {
        cases++;
        const bytes = encodePayload(sent, encoding);
        const parsed = parseAlarm(bytes);
        if (bytes.length > 1024) return expect(parsed.ok || parsed.error.code).toBe('oversize');
        expect(parsed).toEqual({ ok: true, message: expected, encoding });
        // and what the platform read encodes back to the same message
        expect(parseAlarm(encodePayload(expected, encoding))).toEqual({ ok: true, message: expected, encoding });
      }),
      params,
    );
  });

  it('reads every valid position and heartbeat exactly as sent', () => {
    fc.assert(
      fc.property(validLoc, validStatus, encodings, (loc, status, encoding) => {
        cases++;
        expect(parseLoc(encodePayload(loc.sent, encoding))).toEqual({ ok: true, message: loc.expected, encoding });
        const bytes = encodePayload(status.sent, encoding);
        const parsed = parseStatus(bytes);
        if (bytes.length > 1024) return expect(parsed.ok || parsed.error.code).toBe('oversize');
        expect(parsed).toEqual({ ok: true, message: status.expected, encoding });
      }),
      params,
    );
  });

  it('rejects a press with one broken key, with its code, a reason naming the key, and the seq when it is fine', () => {
    fc.assert(
      fc.property(defectiveAlarm, encodings, (defect, encoding) => {
        cases++;
        const parsed = parseAlarm(encodePayload(defect.sent, encoding));
        expect(parsed.ok).toBe(false);
        if (parsed.ok) return;
        wellFormedRejection(parsed);
        expect(parsed.error.code).toBe(defect.code);
        expect(parsed.error.message.startsWith(`${defect.field}:`)).toBe(true);
        expect(parsed.seq).toBe(defect.seq);
        expect(parsed.encoding).toBe(encoding);
      }),
      params,
    );
  });

  it('never throws on hostile bytes: a typed rejection, or a message that survives its own round trip', () => {
    fc.assert(
      fc.property(hostileBytes, (bytes) => {
        cases++;
        for (const parse of [parseAlarm, parseLoc, parseStatus] as const) {
          const parsed = parse(bytes);
          if (!parsed.ok) {
            wellFormedRejection(parsed);
            continue;
          }
          expect((parse as (b: Uint8Array) => unknown)(encodePayload(parsed.message, parsed.encoding))).toEqual(parsed);
        }
      }),
      params,
    );
  });

  it('answers every payload of every topic without throwing', () => {
    fc.assert(
      fc.property(anyAlarmPayload, anyLocPayload, anyStatusPayload, (alarm, loc, status) => {
        cases++;
        for (const [parse, bytes] of [[parseAlarm, alarm], [parseLoc, loc], [parseStatus, status]] as const) {
          const parsed = (parse as (b: Uint8Array) => ReturnType<typeof parseAlarm>)(bytes);
          if (!parsed.ok) wellFormedRejection(parsed);
        }
      }),
      params,
    );
  });

  it('keeps a `__proto__` key an ordinary key in both encodings: nothing is polluted', () => {
    const hostile = JSON.parse('{"seq":1,"__proto__":{"polluted":true}}') as object;
    for (const encoding of ['cbor', 'json'] as const) {
      const decoded = decodeMap(encodePayload(hostile, encoding));
      expect(decoded.ok && Object.hasOwn(decoded.value.map, '__proto__')).toBe(true);
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      expect(parseAlarm(encodePayload(hostile, encoding))).toEqual({ ok: true, message: { seq: 1, kind: 'panic' }, encoding });
    }
  });
});
