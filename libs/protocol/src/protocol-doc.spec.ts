import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';

import { decodeMap, encodePayload, parseAck, parseAlarm, parseCmd, parseLoc, parseStatus } from './index.js';

// docs/protocol.md shows every message in JSON and in CBOR hex: its examples must be exactly what
// the platform sends and accepts, so that firmware engineers can copy them byte for byte.
const markdown = readFileSync(new URL('../../../docs/protocol.md', import.meta.url), 'utf8');
const blocks = (language: string): string[] =>
  [...markdown.matchAll(new RegExp('```' + language + '\\n([\\s\\S]*?)```', 'g'))].map((match) => match[1]!);

const jsonExamples = blocks('json');
const cborExamples = blocks('cbor-hex').map((block) => block.replace(/\s+/g, ''));
const examples = jsonExamples.map((json, index) => ({ json, cbor: cborExamples[index]!, index }));
const parsers = [parseAlarm, parseLoc, parseStatus, parseAck, parseCmd];

describe('docs/protocol.md', () => {
  it('pairs every JSON example with a CBOR example', () => {
    expect(jsonExamples.length).toBeGreaterThanOrEqual(14);
    expect(cborExamples).toHaveLength(jsonExamples.length);
  });

  it.each(examples)('example $index: the CBOR hex is what encodePayload writes for the JSON', ({ json, cbor }) => {
    expect(encodePayload(JSON.parse(json) as object, 'cbor').toString('hex')).toBe(cbor);
  });

  it.each(examples)('example $index: both forms decode to the same valid message', ({ json, cbor }) => {
    const fromJson = decodeMap(Buffer.from(json, 'utf8'));
    const fromCbor = decodeMap(Buffer.from(cbor, 'hex'));
    if (!fromJson.ok || !fromCbor.ok) throw new Error('an example does not decode');
    expect(fromJson.value.map).toEqual(fromCbor.value.map);
    const accepted = parsers.filter((parse) => parse(Buffer.from(cbor, 'hex')).ok && parse(Buffer.from(json)).ok);
    expect(accepted.length).toBeGreaterThan(0);
  });

  it.each(examples.filter(({ json }) => !/\s/.test(json.trim())))(
    'example $index: compact JSON is byte for byte what encodePayload writes',
    ({ json }) => {
      expect(encodePayload(JSON.parse(json) as object, 'json').toString('utf8')).toBe(json.trim());
    },
  );
});
