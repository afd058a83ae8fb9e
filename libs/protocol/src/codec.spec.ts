import { describe, expect, it } from '@jest/globals';
import { Decoder } from 'cbor-x';

import { MAX_PAYLOAD_BYTES, decodeMap, detectEncoding, encodePayload } from './index.js';

const hex = (text: string): Uint8Array => Buffer.from(text.replace(/\s+/g, ''), 'hex');
const utf8 = (text: string): Uint8Array => Buffer.from(text, 'utf8');

/** An independent RFC 8949 decoder, to prove that our CBOR is not cbor-x-specific. */
const reference = new Decoder({ useRecords: false, mapsAsObjects: true });

describe(detectEncoding.name, () => {
  it.each([
    ['a JSON object', utf8('{"seq":1}'), 'json'],
    ['an empty CBOR map (0xa0)', hex('a0'), 'cbor'],
    ['a CBOR map of 1 (0xa1)', hex('a163736571 01'), 'cbor'],
    ['a CBOR map with a 1-byte count (0xb8)', hex('b8'), 'cbor'],
    ['an indefinite-length CBOR map (0xbf)', hex('bf'), 'cbor'],
    ['nothing', hex(''), null],
    ['a CBOR array', hex('83010203'), null],
    ['a CBOR integer', hex('01'), null],
    ['a CBOR text string', hex('6161'), null],
    ['a CBOR tag (self-described CBOR)', hex('d9d9f7 a0'), null],
    ['a JSON array', utf8('[1]'), null],
    ['a JSON string', utf8('"seq"'), null],
    ['leading whitespace', utf8(' {"seq":1}'), null],
    ['a UTF-8 byte order mark', utf8('\ufeff{"seq":1}'), null],
  ])('tells %s', (_what, bytes, expected) => {
    expect(detectEncoding(bytes)).toBe(expected);
  });

  it('tells every first byte apart: 0xa0-0xbf CBOR, 0x7b JSON, the rest nothing', () => {
    const detected = Array.from({ length: 256 }, (_, byte) => detectEncoding(Uint8Array.of(byte)));
    expect(detected.filter((encoding) => encoding === 'cbor')).toHaveLength(32);
    expect(detected.indexOf('json')).toBe(0x7b);
    expect(detected.lastIndexOf('json')).toBe(0x7b);
    expect(detected.indexOf('cbor')).toBe(0xa0);
    expect(detected.lastIndexOf('cbor')).toBe(0xbf);
  });
});

describe(decodeMap.name, () => {
  it('decodes a CBOR map', () => {
    expect(decodeMap(hex('a163736571 01'))).toEqual({ ok: true, value: { map: { seq: 1 }, encoding: 'cbor' } });
  });

  it('decodes a JSON object', () => {
    expect(decodeMap(utf8('{"seq":1}'))).toEqual({ ok: true, value: { map: { seq: 1 }, encoding: 'json' } });
  });

  it('accepts exactly MAX_PAYLOAD_BYTES and refuses one more, before decoding', () => {
    const atLimit = utf8(`{"pad":"${'x'.repeat(MAX_PAYLOAD_BYTES - 10)}"}`);
    expect(atLimit).toHaveLength(1024);
    expect(decodeMap(atLimit).ok).toBe(true);
    const overLimit = new Uint8Array(MAX_PAYLOAD_BYTES + 1).fill(0xff); // would be malformed if decoded
    overLimit[0] = 0xa1;
    const result = decodeMap(overLimit);
    expect(result.ok || result.error.code).toBe('oversize');
  });

  it.each([
    ['an empty payload', hex(''), 'empty'],
    ['a CBOR array', hex('83010203'), 'unknown-encoding'],
    ['invalid JSON', utf8('{seq:1}'), 'malformed'],
    ['truncated CBOR', hex('a2 63736571 01'), 'malformed'],
  ])('fails on %s', (_what, bytes, code) => {
    const result = decodeMap(bytes);
    expect(result.ok || result.error.code).toBe(code);
  });
});

describe(encodePayload.name, () => {
  it('writes a plain CBOR map in preferred serialization (RFC 8949 §4.2.1)', () => {
    expect(encodePayload({ seq: 1 }, 'cbor').toString('hex')).toBe('a163736571' + '01');
    expect(
      encodePayload({ cmd: 'config', hb: 3600, locEvery: 15 }, 'cbor').toString('hex'),
    ).toBe('a3' + '63636d64' + '66636f6e666967' + '626862' + '190e10' + '686c6f634576657279' + '0f');
  });

  it('writes JSON', () => {
    expect(encodePayload({ cmd: 'locate' }, 'json').toString('utf8')).toBe('{"cmd":"locate"}');
  });

  it('omits undefined fields at every depth, in both encodings', () => {
    const message = { seq: 1, ts: undefined, loc: { lat: 1, lon: 2, acc: undefined } };
    expect(encodePayload(message, 'json').toString('utf8')).toBe('{"seq":1,"loc":{"lat":1,"lon":2}}');
    expect(encodePayload(message, 'cbor').toString('hex')).toBe(
      'a2' + '63736571' + '01' + '636c6f63' + 'a2' + '636c6174' + '01' + '636c6f6e' + '02',
    );
  });

  it('writes a millisecond timestamp as a CBOR integer, not a float', () => {
    const bytes = encodePayload({ ts: 1767225601234 }, 'cbor');
    expect(bytes.toString('hex')).toBe('a1' + '627473' + '1b' + '0000019b76daacd2');
  });

  it('writes non-integers as float64 so that no precision is lost', () => {
    expect(encodePayload({ lat: 50.8503 }, 'cbor').toString('hex')).toBe('a1' + '636c6174' + 'fb40496cd6a161e4f7');
  });

  it('produces CBOR that an independent decoder reads back to the same object', () => {
    const message = {
      seq: 4294967295,
      ts: 1767225601234,
      kind: 'panic',
      loc: { lat: -33.5, lon: 151.2093, acc: 0, src: 'wifi' },
      cell: { mcc: 206, mnc: 1, rsrp: -140.5 },
      fw: 'ü-1.0',
    };
    expect(reference.decode(encodePayload(message, 'cbor'))).toEqual({ ...message, ts: 1767225601234n });
    expect(decodeMap(encodePayload(message, 'cbor'))).toEqual({ ok: true, value: { map: message, encoding: 'cbor' } });
  });

  it('returns bytes that later encodings do not overwrite', () => {
    const first = encodePayload({ seq: 1 }, 'cbor');
    for (let seq = 2; seq < 2000; seq++) encodePayload({ seq, pad: 'x'.repeat(100) }, 'cbor');
    expect(first.toString('hex')).toBe('a16373657101');
  });
});
