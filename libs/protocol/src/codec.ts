/**
 * Payload encoding (CONTRACT §3 "Encoding"): a CBOR map (RFC 8949) or the same object as UTF-8
 * JSON (RFC 8259), told apart by the first byte, at most 1 KiB.
 */
import { Encoder } from 'cbor-x';

import { CborError, decodeCbor } from './cbor.js';
import { fail, ok, type Result } from './errors.js';

export type Encoding = 'cbor' | 'json';
export const ENCODINGS: readonly Encoding[] = Object.freeze(['cbor', 'json'] as const);

// CONTRACT §3: maximum payload 1 KiB
export const MAX_PAYLOAD_BYTES = 1024;

const OPEN_BRACE = 0x7b; // '{'

/**
 * CONTRACT §3: `{` is JSON; 0xA0–0xBF is CBOR major type 5, a map (RFC 8949 §3.1). Anything else
 * (a CBOR array or integer, a JSON array or string, a BOM, leading whitespace) is neither.
 */
export function detectEncoding(bytes: Uint8Array): Encoding | null {
  if (bytes.length === 0) return null;
  const first = bytes[0]!;
  if (first === OPEN_BRACE) return 'json';
  if (first >= 0xa0 && first <= 0xbf) return 'cbor';
  return null;
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Size check, encoding detection, decoding. The top level must be a map; its text keys are kept
 * (CBOR items under other keys are dropped). Never throws on any input.
 */
export function decodeMap(bytes: Uint8Array): Result<{ map: Record<string, unknown>; encoding: Encoding }> {
  if (bytes.length === 0) return fail('empty', 'empty payload');
  // CONTRACT §3: checked before any decoding work
  if (bytes.length > MAX_PAYLOAD_BYTES) {
    return fail('oversize', `payload of ${bytes.length} bytes exceeds ${MAX_PAYLOAD_BYTES}`);
  }
  const encoding = detectEncoding(bytes);
  if (encoding === null) {
    const first = bytes[0]!.toString(16).padStart(2, '0');
    return fail('unknown-encoding', `first byte 0x${first} is neither a CBOR map nor '{'`);
  }
  const decoded = encoding === 'cbor' ? decodeCborMap(bytes) : decodeJsonMap(bytes);
  if (!decoded.ok) return decoded;
  return ok({ map: decoded.value, encoding });
}

function decodeCborMap(bytes: Uint8Array): Result<Record<string, unknown>> {
  let value: unknown;
  try {
    value = decodeCbor(bytes);
  } catch (error) {
    if (error instanceof CborError) return fail('malformed', error.message);
    return fail('malformed', 'undecodable CBOR'); // e.g. a stack overflow: still never a crash
  }
  return asMap(value, 'CBOR');
}

function decodeJsonMap(bytes: Uint8Array): Result<Record<string, unknown>> {
  let text: string;
  try {
    text = utf8.decode(bytes); // RFC 8259 §8.1: UTF-8
  } catch {
    return fail('malformed', 'invalid UTF-8 in JSON');
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return fail('malformed', 'invalid JSON'); // the parser's own message would echo the payload
  }
  return asMap(value, 'JSON');
}

/** Unreachable after detection for valid input, kept so that the guarantee is local. */
function asMap(value: unknown, what: string): Result<Record<string, unknown>> {
  if (!isPlainMap(value)) return fail('not-a-map', `top level of the ${what} payload is not a map`);
  return ok(value);
}

/** A decoded map: a non-null, non-array object of the kind JSON.parse and decodeCbor produce. */
export function isPlainMap(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

// RFC 8949 §4.2.1 preferred serialization for maps and integers; plain maps with text keys that
// any RFC 8949 decoder reads — no cbor-x records, structures, packed values or shared references.
const cborEncoder = new Encoder({
  useRecords: false,
  mapsAsObjects: true,
  variableMapSize: true,
  structuredClone: false,
  pack: false,
  bundleStrings: false,
  tagUint8Array: false,
  useSelfDescribedHeader: false,
});

/**
 * Encodes a message as a CBOR map or as JSON. Keys whose value is `undefined` are omitted (at every
 * depth). Integers beyond 32 bits (an ack's `ts` in milliseconds) are written as CBOR integers
 * (RFC 8949 §3.1 major type 0/1 with an 8-byte argument), not as floats.
 */
export function encodePayload(message: object, encoding: Encoding): Buffer {
  if (encoding === 'json') return Buffer.from(JSON.stringify(withoutUndefined(message, false)), 'utf8');
  // Buffer.from copies: the encoder's output is a view into its shared working buffer
  return Buffer.from(cborEncoder.encode(withoutUndefined(message, true)));
}

function withoutUndefined(value: unknown, wideIntegersAsBigInt: boolean): unknown {
  if (Array.isArray(value)) return value.map((item) => withoutUndefined(item, wideIntegersAsBigInt));
  if (typeof value === 'object' && value !== null && !ArrayBuffer.isView(value) && !(value instanceof Date)) {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      if (item === undefined) continue;
      const copy = withoutUndefined(item, wideIntegersAsBigInt);
      // `__proto__` as an own key, not the prototype setter; every other key by plain (fast) assignment
      if (key === '__proto__') Object.defineProperty(out, key, { value: copy, enumerable: true, writable: true, configurable: true });
      else out[key] = copy;
    }
    return out;
  }
  if (
    wideIntegersAsBigInt &&
    typeof value === 'number' &&
    Number.isSafeInteger(value) &&
    (value > 0xffffffff || value < -0x100000000)
  ) {
    return BigInt(value); // cbor-x writes a number beyond 32 bits as a float64, a bigint as an integer
  }
  return value;
}
