import { describe, expect, it } from '@jest/globals';
import { Decoder } from 'cbor-x';

import {
  ACK_STAGES,
  MAX_PAYLOAD_BYTES,
  VIBRATION,
  encodePayload,
  makeAck,
  parseAck,
  parseAlarm,
  parseCmd,
  parseLoc,
  parseStatus,
  validateCmd,
  type AckMessage,
  type AlarmMessage,
  type CmdMessage,
  type Decoded,
  type Encoding,
  type LocMessage,
  type ProtocolErrorCode,
  type Rejected,
  type StatusMessage,
} from './index.js';

/** A CBOR fixture written by hand (RFC 8949 §3), spaces and line breaks allowed. */
const hex = (text: string): Buffer => Buffer.from(text.replace(/\s+/g, ''), 'hex');
const utf8 = (text: string): Buffer => Buffer.from(text, 'utf8');

/** An independent RFC 8949 decoder, to double-check the hand-written fixtures. */
const reference = new Decoder({ useRecords: false, mapsAsObjects: true });

type Parser<T> = (bytes: Uint8Array) => Decoded<T> | Rejected;

function decoded<T>(result: Decoded<T> | Rejected): Decoded<T> {
  if (!result.ok) throw new Error(`expected a message, got ${result.error.code}: ${result.error.message}`);
  return result;
}

function rejected<T>(result: Decoded<T> | Rejected): Rejected {
  if (result.ok) throw new Error(`expected a rejection, got ${JSON.stringify(result.message)}`);
  return result;
}

/**
 * One message in both encodings: the CBOR hex written by hand, the same object as JSON, and what
 * the parser must make of it.
 */
interface Fixture<T> {
  name: string;
  cbor: string;
  json: string;
  expected: T;
}

function verifyFixtures<T>(parse: Parser<T>, fixtures: Fixture<T>[]): void {
  describe.each(fixtures)('$name', ({ cbor, json, expected }) => {
    it('decodes the CBOR fixture', () => {
      expect(decoded(parse(hex(cbor)))).toEqual({ ok: true, message: expected, encoding: 'cbor' });
    });

    it('decodes the JSON fixture', () => {
      expect(decoded(parse(utf8(json)))).toEqual({ ok: true, message: expected, encoding: 'json' });
    });

    it('has a CBOR fixture that means the same as its JSON (independent decoder)', () => {
      // cbor-x returns 64-bit integers (an ack's ts) as bigints; JSON has only numbers
      const numbers = JSON.parse(JSON.stringify(reference.decode(hex(cbor)), (_key, value: unknown) =>
        typeof value === 'bigint' ? Number(value) : value,
      ));
      expect(numbers).toEqual(JSON.parse(json));
    });
  });
}

function verifyRoundTrip<T extends object>(parse: Parser<T>, messages: T[]): void {
  it.each(
    messages.flatMap((message) => (['cbor', 'json'] as const).map((encoding) => [encoding, message] as const)),
  )('round-trips in %s: %j', (encoding: Encoding, message: T) => {
    expect(decoded(parse(encodePayload(message, encoding)))).toEqual({ ok: true, message, encoding });
  });
}

// ---- alarm ------------------------------------------------------------------------------------

describe(parseAlarm.name, () => {
  verifyFixtures<AlarmMessage>(parseAlarm, [
    {
      name: 'the smallest alarm: a seq alone',
      // {"seq": 1}
      cbor: 'a1 63736571 01',
      json: '{"seq":1}',
      expected: { seq: 1, kind: 'panic' },
    },
    {
      name: 'a full alarm, floats in single and half precision',
      cbor: `a6
        63736571 182a                  # "seq": 42
        627473 1a6955b900              # "ts": 1767225600
        646b696e64 6570616e6963        # "kind": "panic"
        636c6f63 a5                    # "loc": {
          636c6174 fa424ce000          #   "lat": 51.21875 (float32)
          636c6f6e fa408d0000          #   "lon": 4.40625 (float32)
          63616363 f94a40              #   "acc": 12.5 (float16)
          627473 1a6955b8f6            #   "ts": 1767225590
          63737263 64676e7373          #   "src": "gnss" }
        6463656c6c a5                  # "cell": {
          636d6363 18ce                #   "mcc": 206
          636d6e63 0a                  #   "mnc": 10
          63746163 190bb9              #   "tac": 3001
          63636964 1a01950601          #   "cid": 26543617
          6472737270 3860              #   "rsrp": -97 }
        63626174 1851                  # "bat": 81`.replace(/#.*$/gm, ''),
      json:
        '{"seq":42,"ts":1767225600,"kind":"panic",' +
        '"loc":{"lat":51.21875,"lon":4.40625,"acc":12.5,"ts":1767225590,"src":"gnss"},' +
        '"cell":{"mcc":206,"mnc":10,"tac":3001,"cid":26543617,"rsrp":-97},"bat":81}',
      expected: {
        seq: 42,
        ts: 1767225600,
        kind: 'panic',
        loc: { lat: 51.21875, lon: 4.40625, acc: 12.5, ts: 1767225590, src: 'gnss' },
        cell: { mcc: 206, mnc: 10, tac: 3001, cid: 26543617, rsrp: -97 },
        bat: 81,
      },
    },
    {
      name: 'a self-test with an unknown key, which is ignored',
      // {"seq": 7, "kind": "test", "x": true}
      cbor: 'a3 63736571 07 646b696e64 6474657374 6178 f5',
      json: '{"seq":7,"kind":"test","x":true}',
      expected: { seq: 7, kind: 'test' },
    },
    {
      name: 'the largest seq, and an empty cell map',
      // {"seq": 4294967295, "cell": {}}
      cbor: 'a2 63736571 1affffffff 6463656c6c a0',
      json: '{"seq":4294967295,"cell":{}}',
      expected: { seq: 4294967295, kind: 'panic', cell: {} },
    },
  ]);

  it('reads an indefinite-length CBOR map', () => {
    // {_ "seq": 3}
    expect(decoded(parseAlarm(hex('bf 63736571 03 ff'))).message).toEqual({ seq: 3, kind: 'panic' });
  });

  it('ignores CBOR entries with non-text keys', () => {
    // {1: 2, "seq": 3}
    expect(decoded(parseAlarm(hex('a2 01 02 63736571 03'))).message).toEqual({ seq: 3, kind: 'panic' });
  });

  it('treats null as an absent optional key', () => {
    expect(decoded(parseAlarm(utf8('{"seq":1,"ts":null,"loc":null,"bat":null}'))).message).toEqual({
      seq: 1,
      kind: 'panic',
    });
  });

  it('returns only known keys, none of them undefined', () => {
    const { message } = decoded(parseAlarm(utf8('{"seq":1,"loc":{"lat":0,"lon":0,"extra":1},"zzz":2}')));
    expect(Object.keys(message)).toEqual(['seq', 'kind', 'loc']);
    expect(Object.keys(message.loc!)).toEqual(['lat', 'lon']);
  });

  verifyRoundTrip<AlarmMessage>(parseAlarm, [
    { seq: 0, kind: 'panic' },
    { seq: 4294967295, ts: 1767225600, kind: 'test', bat: 100 },
    {
      seq: 9,
      kind: 'panic',
      loc: { lat: -90, lon: 180, acc: 0, ts: 0, src: 'wifi' },
      cell: { mcc: 0, mnc: 999, tac: 0, cid: 4294967295, rsrp: -200 },
      bat: 0,
    },
    { seq: 10, kind: 'panic', loc: { lat: 50.8503, lon: 4.3517, acc: 35.2, src: 'cell' }, cell: { rsrp: -88.5 } },
  ]);
});

// ---- loc ----------------------------------------------------------------------------------------

describe(parseLoc.name, () => {
  verifyFixtures<LocMessage>(parseLoc, [
    {
      name: 'a position update with double-precision coordinates',
      cbor: `a5
        63736571 19012c                # "seq": 300
        636c6174 fb40496cd6a161e4f7    # "lat": 50.8503 (float64)
        636c6f6e fb401168240b780347    # "lon": 4.3517 (float64)
        63616363 08                    # "acc": 8
        63737263 6463656c6c            # "src": "cell"`.replace(/#.*$/gm, ''),
      json: '{"seq":300,"lat":50.8503,"lon":4.3517,"acc":8,"src":"cell"}',
      expected: { seq: 300, lat: 50.8503, lon: 4.3517, acc: 8, src: 'cell' },
    },
    {
      name: 'southern and western hemispheres, half-precision',
      // {"seq": 0, "lat": -33.5, "lon": -70.25, "ts": 1767225600}
      cbor: 'a4 63736571 00 636c6174 f9d030 636c6f6e f9d464 627473 1a6955b900',
      json: '{"seq":0,"lat":-33.5,"lon":-70.25,"ts":1767225600}',
      expected: { seq: 0, lat: -33.5, lon: -70.25, ts: 1767225600 },
    },
  ]);

  verifyRoundTrip<LocMessage>(parseLoc, [
    { seq: 1, lat: 0, lon: 0 },
    { seq: 2, lat: 51.2194, lon: 4.4025, acc: 4.5, ts: 1767225600, src: 'gnss' },
  ]);
});

// ---- status -------------------------------------------------------------------------------------

describe(parseStatus.name, () => {
  verifyFixtures<StatusMessage>(parseStatus, [
    {
      name: 'a heartbeat with every key',
      cbor: `a6
        63736571 1903e8                # "seq": 1000
        627473 1a6955b900              # "ts": 1767225600
        63626174 1840                  # "bat": 64
        6472737270 f9d658              # "rsrp": -101.5 (float16)
        626677 65312e342e32            # "fw": "1.4.2"
        636c6f63 a2                    # "loc": {
          636c6174 fa424ce000          #   "lat": 51.21875
          636c6f6e fa408d0000          #   "lon": 4.40625 }`.replace(/#.*$/gm, ''),
      json:
        '{"seq":1000,"ts":1767225600,"bat":64,"rsrp":-101.5,"fw":"1.4.2","loc":{"lat":51.21875,"lon":4.40625}}',
      expected: {
        seq: 1000,
        ts: 1767225600,
        bat: 64,
        rsrp: -101.5,
        fw: '1.4.2',
        loc: { lat: 51.21875, lon: 4.40625 },
      },
    },
    {
      name: 'a bare heartbeat',
      // {"seq": 23}
      cbor: 'a1 63736571 17',
      json: '{"seq":23}',
      expected: { seq: 23 },
    },
  ]);

  verifyRoundTrip<StatusMessage>(parseStatus, [
    { seq: 5, bat: 12, rsrp: 0, fw: 'x'.repeat(64) },
    { seq: 6, ts: 1, fw: 'amr-fw 2.0.0-rc.1+ü', loc: { lat: 1.5, lon: -1.5, src: 'gnss' } },
  ]);
});

// ---- ack ----------------------------------------------------------------------------------------

describe(parseAck.name, () => {
  verifyFixtures<AckMessage>(parseAck, [
    {
      name: 'received',
      cbor: `a5
        63736571 182a                            # "seq": 42
        65616c61726d 6a616c6d5f3031485a5933      # "alarm": "alm_01HZY3"
        657374616765 687265636569766564          # "stage": "received"
        63766962 6573686f7274                    # "vib": "short"
        627473 1b0000019b76daacd2                # "ts": 1767225601234`.replace(/#.*$/gm, ''),
      json: '{"seq":42,"alarm":"alm_01HZY3","stage":"received","vib":"short","ts":1767225601234}',
      expected: { seq: 42, alarm: 'alm_01HZY3', stage: 'received', vib: 'short', ts: 1767225601234 },
    },
    {
      name: 'rejected, without a seq',
      cbor: `a4
        657374616765 6872656a6563746564          # "stage": "rejected"
        63766962 646c6f6e67                      # "vib": "long"
        66726561736f6e 78 19 7365713a20726571756972656420627574206d697373696e67
                                                 # "reason": "seq: required but missing"
        627473 1b0000019b76daacd2                # "ts": 1767225601234`.replace(/#.*$/gm, ''),
      json: '{"stage":"rejected","vib":"long","reason":"seq: required but missing","ts":1767225601234}',
      expected: { stage: 'rejected', vib: 'long', reason: 'seq: required but missing', ts: 1767225601234 },
    },
  ]);

  verifyRoundTrip<AckMessage>(
    parseAck,
    ACK_STAGES.map((stage) => makeAck(stage, { seq: 42, alarm: 'alm_1', reason: 'bat: bad' }, 1767225601234)),
  );
});

describe(makeAck.name, () => {
  it.each(Object.entries(VIBRATION))('acks %s with the %s vibration', (stage, vib) => {
    expect(makeAck(stage as keyof typeof VIBRATION, {}, 5).vib).toBe(vib);
  });

  it('orders the keys as the contract table and leaves out what it was not given', () => {
    const ack = makeAck('received', { seq: 42, alarm: 'alm_01HZY3' }, 1767225601234);
    expect(ack).toEqual({ seq: 42, alarm: 'alm_01HZY3', stage: 'received', vib: 'short', ts: 1767225601234 });
    expect(Object.keys(ack)).toEqual(['seq', 'alarm', 'stage', 'vib', 'ts']);
    expect(Object.keys(makeAck('closed', {}, 1))).toEqual(['stage', 'vib', 'ts']);
  });

  it('sends a reason only with rejected, as printable ASCII of at most 120 characters', () => {
    expect(makeAck('accepted', { reason: 'no' }, 1)).not.toHaveProperty('reason');
    const ack = makeAck('rejected', { reason: `bät: ${'x'.repeat(200)}` }, 1);
    expect(ack.reason).toMatch(/^b\?t: x+\.\.\.$/);
    expect(ack.reason).toHaveLength(120);
  });

  it('stamps the server clock in milliseconds by default', () => {
    const before = Date.now();
    const { ts } = makeAck('received', { seq: 1 });
    expect(ts).toBeGreaterThanOrEqual(before);
    expect(ts).toBeLessThanOrEqual(Date.now());
  });
});

// ---- cmd ----------------------------------------------------------------------------------------

describe(parseCmd.name, () => {
  verifyFixtures<CmdMessage>(parseCmd, [
    {
      name: 'config',
      // {"cmd": "config", "hb": 3600, "locEvery": 15}
      cbor: 'a3 63636d64 66636f6e666967 626862 190e10 686c6f634576657279 0f',
      json: '{"cmd":"config","hb":3600,"locEvery":15}',
      expected: { cmd: 'config', hb: 3600, locEvery: 15 },
    },
    {
      name: 'locate, ignoring stray keys',
      // {"cmd": "locate", "hb": 1}
      cbor: 'a2 63636d64 666c6f63617465 626862 01',
      json: '{"cmd":"locate","hb":1}',
      expected: { cmd: 'locate' },
    },
    {
      name: 'vibrate',
      // {"cmd": "vibrate", "vib": "double"}
      cbor: 'a2 63636d64 6776696272617465 63766962 66646f75626c65',
      json: '{"cmd":"vibrate","vib":"double"}',
      expected: { cmd: 'vibrate', vib: 'double' },
    },
  ]);

  verifyRoundTrip<CmdMessage>(parseCmd, [
    { cmd: 'config', hb: 60 },
    { cmd: 'config', locEvery: 3600 },
    { cmd: 'config', hb: 604800, locEvery: 5 },
    { cmd: 'config', locEvery: 0 },
    { cmd: 'locate' },
    { cmd: 'vibrate' },
    { cmd: 'vibrate', vib: 'none' },
  ]);
});

describe(validateCmd.name, () => {
  it('accepts a JSON body and keeps only the known keys', () => {
    expect(validateCmd({ cmd: 'config', hb: 3600, note: 'x' })).toEqual({
      ok: true,
      value: { cmd: 'config', hb: 3600 },
    });
  });

  it('accepts an object made by a class (a DTO)', () => {
    class Body {
      cmd = 'locate';
    }
    expect(validateCmd(new Body())).toEqual({ ok: true, value: { cmd: 'locate' } });
  });

  it.each([
    ['an array', [{ cmd: 'locate' }], 'not-a-map'],
    ['a string', 'locate', 'not-a-map'],
    ['null', null, 'not-a-map'],
    ['a number', 42, 'not-a-map'],
    ['no cmd', {}, 'missing-field'],
    ['an unknown cmd', { cmd: 'reboot' }, 'out-of-range'],
    ['a numeric cmd', { cmd: 1 }, 'wrong-type'],
    ['config without settings', { cmd: 'config' }, 'missing-field'],
    ['hb below one minute', { cmd: 'config', hb: 59 }, 'out-of-range'],
    ['hb above one week', { cmd: 'config', hb: 604801 }, 'out-of-range'],
    ['hb as a string', { cmd: 'config', hb: '3600' }, 'wrong-type'],
    ['a fractional hb', { cmd: 'config', hb: 3600.5 }, 'wrong-type'],
    ['locEvery below 5 s (but not 0)', { cmd: 'config', locEvery: 4 }, 'out-of-range'],
    ['locEvery negative', { cmd: 'config', locEvery: -1 }, 'out-of-range'],
    ['locEvery above one hour', { cmd: 'config', locEvery: 3601 }, 'out-of-range'],
    ['an unknown vibration', { cmd: 'vibrate', vib: 'buzz' }, 'out-of-range'],
  ])('refuses %s', (_what, body, code) => {
    const result = validateCmd(body);
    expect(result.ok || result.error.code).toBe(code);
  });

  it('says what is wrong in words an operator can act on', () => {
    const result = validateCmd({ cmd: 'reboot' });
    expect(result.ok || result.error.message).toBe('cmd: expected one of config, locate, vibrate, got "reboot"');
    const config = validateCmd({ cmd: 'config' });
    expect(config.ok || config.error.message).toBe('config: needs hb, locEvery or both');
  });
});

// ---- bad input ----------------------------------------------------------------------------------

const oversize = utf8(`{"seq":1,"pad":"${'x'.repeat(MAX_PAYLOAD_BYTES + 1 - 18)}"}`);

describe('bad input', () => {
  it('builds a 1025-byte oversize fixture', () => {
    expect(oversize).toHaveLength(1025);
  });

  // [what, parser, payload, expected code, expected field]
  const table: [string, Parser<unknown>, Uint8Array, ProtocolErrorCode, string?][] = [
    // framing
    ['an empty payload', parseAlarm, hex(''), 'empty'],
    ['1025 bytes', parseAlarm, oversize, 'oversize'],
    ['garbage bytes', parseAlarm, hex('deadbeef'), 'unknown-encoding'],
    ['a CBOR array at the top', parseAlarm, hex('81 a1 63736571 01'), 'unknown-encoding'],
    ['a CBOR integer at the top', parseAlarm, hex('01'), 'unknown-encoding'],
    ['a JSON array at the top', parseAlarm, utf8('[{"seq":1}]'), 'unknown-encoding'],
    ['a JSON string at the top', parseAlarm, utf8('"seq"'), 'unknown-encoding'],
    ['JSON after whitespace', parseAlarm, utf8(' {"seq":1}'), 'unknown-encoding'],
    ['invalid JSON starting with {', parseAlarm, utf8('{seq:1}'), 'malformed'],
    ['truncated JSON', parseAlarm, utf8('{"seq":1'), 'malformed'],
    ['JSON with trailing garbage', parseAlarm, utf8('{"seq":1}x'), 'malformed'],
    ['invalid UTF-8 in JSON', parseAlarm, hex('7b 22736571 22 3a 31 2c 22 ff 22 3a 31 7d'), 'malformed'],
    ['a truncated CBOR map', parseAlarm, hex('a2 63736571 01'), 'malformed'],
    ['a truncated CBOR key', parseAlarm, hex('a1 63 7365'), 'malformed'],
    ['a truncated CBOR integer', parseAlarm, hex('a1 63736571 1a0000'), 'malformed'],
    ['trailing bytes after the CBOR map', parseAlarm, hex('a1 63736571 01 00'), 'malformed'],
    ['two CBOR maps', parseAlarm, hex('a1 63736571 01 a1 63736571 02'), 'malformed'],
    ['invalid UTF-8 in a CBOR key', parseAlarm, hex('a2 63736571 01 62 c328 01'), 'malformed'],
    ['a repeated CBOR key', parseAlarm, hex('a2 63736571 01 63736571 02'), 'malformed'],
    ['a reserved CBOR code', parseAlarm, hex('a1 63736571 1c'), 'malformed'],
    ['a CBOR break without a start', parseAlarm, hex('a1 63736571 ff'), 'malformed'],
    ['CBOR nested too deep', parseAlarm, hex(`a2 63736571 01 636c6f63 ${'81'.repeat(20)} 01`), 'malformed'],
    // seq
    ['no seq (CBOR)', parseAlarm, hex('a0'), 'missing-field', 'seq'],
    ['no seq (JSON)', parseAlarm, utf8('{}'), 'missing-field', 'seq'],
    ['a null seq', parseAlarm, utf8('{"seq":null}'), 'missing-field', 'seq'],
    ['seq as a string', parseAlarm, utf8('{"seq":"1"}'), 'wrong-type', 'seq'],
    ['seq as a CBOR boolean', parseAlarm, hex('a1 63736571 f5'), 'wrong-type', 'seq'],
    ['seq as a CBOR byte string', parseAlarm, hex('a1 63736571 4101'), 'wrong-type', 'seq'],
    ['seq as a CBOR array', parseAlarm, hex('a1 63736571 8101'), 'wrong-type', 'seq'],
    ['seq as a CBOR simple value', parseAlarm, hex('a1 63736571 e0'), 'wrong-type', 'seq'],
    ['a fractional seq', parseAlarm, utf8('{"seq":1.5}'), 'wrong-type', 'seq'],
    ['a negative seq (JSON)', parseAlarm, utf8('{"seq":-1}'), 'out-of-range', 'seq'],
    ['a negative seq (CBOR)', parseAlarm, hex('a1 63736571 20'), 'out-of-range', 'seq'],
    ['seq = 2^32 (JSON)', parseAlarm, utf8('{"seq":4294967296}'), 'out-of-range', 'seq'],
    ['seq = 2^32 (CBOR)', parseAlarm, hex('a1 63736571 1b0000000100000000'), 'out-of-range', 'seq'],
    ['seq = 2^64 - 1 (CBOR bigint)', parseAlarm, hex('a1 63736571 1bffffffffffffffff'), 'out-of-range', 'seq'],
    ['seq as a CBOR bignum tag', parseAlarm, hex('a1 63736571 c2 4101'), 'wrong-type', 'seq'],
    ['seq = NaN (CBOR half)', parseAlarm, hex('a1 63736571 f97e00'), 'wrong-type', 'seq'],
    ['seq = Infinity (CBOR half)', parseAlarm, hex('a1 63736571 f97c00'), 'wrong-type', 'seq'],
    ['seq = 1e400 (JSON Infinity)', parseAlarm, utf8('{"seq":1e400}'), 'wrong-type', 'seq'],
    // alarm fields
    ['ts as a CBOR Date tag (epoch)', parseAlarm, hex('a2 63736571 01 627473 c1 1a6955b900'), 'wrong-type', 'ts'],
    [
      'ts as a CBOR Date tag (text)',
      parseAlarm,
      hex('a2 63736571 01 627473 c0 74 323032362d30312d30315430303a30303a30305a'),
      'wrong-type',
      'ts',
    ],
    ['a negative ts', parseAlarm, utf8('{"seq":1,"ts":-5}'), 'out-of-range', 'ts'],
    ['an unknown kind', parseAlarm, utf8('{"seq":1,"kind":"alarm"}'), 'out-of-range', 'kind'],
    ['kind as a number', parseAlarm, utf8('{"seq":1,"kind":1}'), 'wrong-type', 'kind'],
    ['bat = 101', parseAlarm, utf8('{"seq":1,"bat":101}'), 'out-of-range', 'bat'],
    ['bat = -1', parseAlarm, hex('a2 63736571 01 63626174 20'), 'out-of-range', 'bat'],
    ['a fractional bat', parseAlarm, utf8('{"seq":1,"bat":50.5}'), 'wrong-type', 'bat'],
    ['bat as a boolean', parseAlarm, utf8('{"seq":1,"bat":true}'), 'wrong-type', 'bat'],
    ['bat as a string', parseAlarm, utf8('{"seq":1,"bat":"80"}'), 'wrong-type', 'bat'],
    ['loc as an array', parseAlarm, utf8('{"seq":1,"loc":[50.8,4.3]}'), 'wrong-type', 'loc'],
    ['loc as a string', parseAlarm, utf8('{"seq":1,"loc":"50.8,4.3"}'), 'wrong-type', 'loc'],
    ['loc as a CBOR tag', parseAlarm, hex('a2 63736571 01 636c6f63 d8 67 a0'), 'wrong-type', 'loc'],
    ['loc without lat', parseAlarm, utf8('{"seq":1,"loc":{"lon":4.3}}'), 'missing-field', 'loc.lat'],
    ['loc without lon', parseAlarm, utf8('{"seq":1,"loc":{"lat":50.8}}'), 'missing-field', 'loc.lon'],
    ['lat = 91', parseAlarm, utf8('{"seq":1,"loc":{"lat":91,"lon":4.3}}'), 'out-of-range', 'loc.lat'],
    ['lon = -180.5', parseAlarm, utf8('{"seq":1,"loc":{"lat":50,"lon":-180.5}}'), 'out-of-range', 'loc.lon'],
    ['lat as a string', parseAlarm, utf8('{"seq":1,"loc":{"lat":"50.8","lon":4.3}}'), 'wrong-type', 'loc.lat'],
    [
      'lat = NaN (CBOR)',
      parseAlarm,
      hex('a2 63736571 01 636c6f63 a2 636c6174 fb7ff8000000000000 636c6f6e 00'),
      'wrong-type',
      'loc.lat',
    ],
    ['a negative acc', parseAlarm, utf8('{"seq":1,"loc":{"lat":0,"lon":0,"acc":-1}}'), 'out-of-range', 'loc.acc'],
    ['an unknown src', parseAlarm, utf8('{"seq":1,"loc":{"lat":0,"lon":0,"src":"gps"}}'), 'out-of-range', 'loc.src'],
    ['cell as a number', parseAlarm, utf8('{"seq":1,"cell":5}'), 'wrong-type', 'cell'],
    ['mcc = 1000', parseAlarm, utf8('{"seq":1,"cell":{"mcc":1000}}'), 'out-of-range', 'cell.mcc'],
    ['mnc = -1', parseAlarm, utf8('{"seq":1,"cell":{"mnc":-1}}'), 'out-of-range', 'cell.mnc'],
    ['cid = 2^32', parseAlarm, utf8('{"seq":1,"cell":{"cid":4294967296}}'), 'out-of-range', 'cell.cid'],
    ['a fractional tac', parseAlarm, utf8('{"seq":1,"cell":{"tac":1.5}}'), 'wrong-type', 'cell.tac'],
    ['rsrp = 1 dBm', parseAlarm, utf8('{"seq":1,"cell":{"rsrp":1}}'), 'out-of-range', 'cell.rsrp'],
    ['rsrp = -201 dBm', parseAlarm, utf8('{"seq":1,"cell":{"rsrp":-201}}'), 'out-of-range', 'cell.rsrp'],
    // loc
    ['a loc without seq', parseLoc, utf8('{"lat":1,"lon":2}'), 'missing-field', 'seq'],
    ['a loc without lon', parseLoc, hex('a2 63736571 01 636c6174 01'), 'missing-field', 'lon'],
    ['a loc with lat = 91', parseLoc, utf8('{"seq":1,"lat":91,"lon":2}'), 'out-of-range', 'lat'],
    ['a loc with a Date tag as ts', parseLoc, hex('a4 63736571 01 636c6174 01 636c6f6e 02 627473 c1 00'), 'wrong-type', 'ts'],
    // status
    ['a status without seq', parseStatus, utf8('{"bat":50}'), 'missing-field', 'seq'],
    ['a status with bat = 101', parseStatus, utf8('{"seq":1,"bat":101}'), 'out-of-range', 'bat'],
    ['a status with a 65-character fw', parseStatus, utf8(`{"seq":1,"fw":"${'x'.repeat(65)}"}`), 'out-of-range', 'fw'],
    ['a status with a numeric fw', parseStatus, utf8('{"seq":1,"fw":12}'), 'wrong-type', 'fw'],
    ['a status with rsrp as a string', parseStatus, utf8('{"seq":1,"rsrp":"-90"}'), 'wrong-type', 'rsrp'],
    ['a status with a bad loc', parseStatus, utf8('{"seq":1,"loc":{"lat":0,"lon":181}}'), 'out-of-range', 'loc.lon'],
    // ack, as the device reads it
    ['an ack with an unknown stage', parseAck, utf8('{"stage":"done","vib":"short","ts":1}'), 'out-of-range', 'stage'],
    ['an ack without vib', parseAck, utf8('{"stage":"received","ts":1}'), 'missing-field', 'vib'],
    ['an ack with an unknown vib', parseAck, utf8('{"stage":"received","vib":"buzz","ts":1}'), 'out-of-range', 'vib'],
    ['an ack without ts', parseAck, utf8('{"stage":"received","vib":"short"}'), 'missing-field', 'ts'],
    ['an ack with a fractional ts', parseAck, utf8('{"stage":"closed","vib":"none","ts":1.5}'), 'wrong-type', 'ts'],
    ['an ack with seq = 2^32', parseAck, utf8('{"seq":4294967296,"stage":"closed","vib":"none","ts":1}'), 'out-of-range', 'seq'],
    ['an ack with a numeric alarm id', parseAck, utf8('{"alarm":5,"stage":"closed","vib":"none","ts":1}'), 'wrong-type', 'alarm'],
    ['an ack with a numeric reason', parseAck, utf8('{"stage":"rejected","vib":"long","reason":1,"ts":1}'), 'wrong-type', 'reason'],
    // cmd, as the device reads it
    ['a cmd that is an array', parseCmd, utf8('[{"cmd":"locate"}]'), 'unknown-encoding'],
    ['an unknown cmd', parseCmd, utf8('{"cmd":"reboot"}'), 'out-of-range', 'cmd'],
    ['a cmd without cmd', parseCmd, hex('a1 626862 190e10'), 'missing-field', 'cmd'],
    ['a config without settings', parseCmd, utf8('{"cmd":"config"}'), 'missing-field'],
    ['a config with hb = 59', parseCmd, utf8('{"cmd":"config","hb":59}'), 'out-of-range', 'hb'],
  ];

  const rows = table.map(([what, parse, bytes, code, field]) => ({ what, parse, bytes, code, field }));

  it.each(rows)('$what is refused', ({ parse, bytes, code, field }) => {
    const { error } = rejected(parse(bytes));
    expect(error.code).toBe(code);
    expect(error.field).toBe(field);
    // the message becomes an ack reason: printable ASCII, at most 120 characters
    expect(error.message).toMatch(/^[\x20-\x7e]{1,120}$/);
  });

  it('explains a bad value in the reason', () => {
    expect(rejected(parseAlarm(utf8('{"seq":-1}'))).error.message).toBe(
      'seq: expected an unsigned 32-bit integer, got -1',
    );
    expect(rejected(parseAlarm(utf8('{"seq":1,"loc":{"lat":91,"lon":4.3}}'))).error.message).toBe(
      'loc.lat: expected a number from -90 to 90, got 91',
    );
    expect(rejected(parseAlarm(hex('a2 63736571 01 627473 c1 1a6955b900'))).error.message).toBe(
      'ts: expected an unsigned integer, got CBOR tag 1',
    );
  });

  it('never echoes non-ASCII or long device input', () => {
    const { error } = rejected(parseAlarm(utf8(`{"seq":1,"kind":"pänic\\u0000"}`)));
    expect(error.message).toBe('kind: expected one of panic, test, got "p?nic\\u0000"');
    const long = rejected(parseAlarm(utf8(`{"seq":1,"kind":"${'ü'.repeat(500)}"}`)));
    expect(long.error.message).toBe('kind: expected one of panic, test, got a string of 500 characters');
  });

  it('never throws, whatever the bytes', () => {
    let seed = 42;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let i = 0; i < 5000; i++) {
      const bytes = Uint8Array.from({ length: 1 + Math.floor(random() * 40) }, () => Math.floor(random() * 256));
      bytes[0] = i % 2 ? 0xa0 + (bytes[0]! % 32) : 0x7b;
      for (const parse of [parseAlarm, parseLoc, parseStatus, parseAck, parseCmd]) {
        expect(() => parse(bytes)).not.toThrow();
      }
    }
  });
});

describe('Rejected', () => {
  it.each([
    ['JSON', utf8('{"seq":5,"bat":101}'), 'json'],
    ['CBOR', hex('a2 63736571 05 63626174 1865'), 'cbor'],
  ])('carries seq when seq is valid but another key is bad (%s)', (_what, bytes, encoding) => {
    expect(rejected(parseAlarm(bytes))).toMatchObject({ ok: false, seq: 5, encoding });
  });

  it('carries the seq of a loc and a status too', () => {
    expect(rejected(parseLoc(utf8('{"seq":8,"lat":91,"lon":0}'))).seq).toBe(8);
    expect(rejected(parseStatus(utf8('{"seq":9,"fw":1}'))).seq).toBe(9);
  });

  it.each([
    ['seq is missing', utf8('{"bat":50}')],
    ['seq is out of range', utf8('{"seq":-1}')],
    ['seq is not an integer', utf8('{"seq":"5","bat":101}')],
    ['the payload is malformed', utf8('{"seq":5,')],
    ['the payload is too long', oversize],
  ])('has no seq when %s', (_what, bytes) => {
    expect(rejected(parseAlarm(bytes))).not.toHaveProperty('seq');
  });

  it.each([
    ['empty', hex(''), null],
    ['not CBOR or JSON', hex('83010203'), null],
    ['malformed JSON', utf8('{"seq":'), 'json'],
    ['malformed CBOR', hex('a1 63736571'), 'cbor'],
    ['oversize JSON', oversize, 'json'],
  ])('tells the encoding the device meant when %s', (_what, bytes, encoding) => {
    expect(rejected(parseAlarm(bytes)).encoding).toBe(encoding);
  });
});
