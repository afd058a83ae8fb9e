/**
 * A strict decoder for the part of CBOR (RFC 8949) that the protocol uses: one data item, any
 * well-formed encoding of it, nothing after it. Deliberately not a general-purpose decoder:
 * - tags are not interpreted: a tagged item decodes to a `CborTag`, which no protocol field accepts
 *   (so a Date tag or a bignum where a number is expected is a wrong type, not a surprise object);
 * - maps become plain objects keyed by their text-string keys; items under other keys are
 *   read (to stay in step) and dropped; a repeated text key is invalid (RFC 8949 §5.6);
 * - text must be valid UTF-8 (RFC 8949 §3.1 major type 3, §5.3.1);
 * - integers beyond ±2^53 come back as `bigint` so that they are never silently rounded.
 * Every failure is a `CborError` with a short printable reason; the caller maps it to `malformed`.
 */

export class CborTag {
  constructor(
    readonly tag: number | bigint,
    readonly value: unknown,
  ) {}
}

/** A simple value other than false, true, null and undefined (RFC 8949 §3.3). */
export class CborSimple {
  constructor(readonly value: number) {}
}

export class CborError extends Error {
  override readonly name = 'CborError';
}

/** Deeper than any protocol message needs (two levels); bounds the recursion on hostile input. */
export const MAX_CBOR_DEPTH = 16;

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Decodes exactly one CBOR data item that fills `bytes` (RFC 8949 §5.1 well-formedness). */
export function decodeCbor(bytes: Uint8Array): unknown {
  const reader = new Reader(bytes);
  const value = reader.item(0);
  if (reader.position !== bytes.length) {
    throw new CborError(`${bytes.length - reader.position} trailing byte(s) after the CBOR item`);
  }
  return value;
}

const BREAK = Symbol('break');

class Reader {
  position = 0;
  private readonly view: DataView;

  constructor(private readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  item(depth: number): unknown {
    const value = this.itemOrBreak(depth);
    if (value === BREAK) throw new CborError('unexpected CBOR break code');
    return value;
  }

  private itemOrBreak(depth: number): unknown {
    if (depth > MAX_CBOR_DEPTH) throw new CborError(`CBOR nested deeper than ${MAX_CBOR_DEPTH} levels`);
    const initial = this.take(1)[0]!;
    const major = initial >> 5; // RFC 8949 §3: high-order 3 bits
    const info = initial & 0x1f; // RFC 8949 §3: low-order 5 bits

    if (major === 7) return this.simpleOrFloat(info);
    if (info === 31) return this.indefinite(major, depth);
    const argument = this.argument(info);

    switch (major) {
      case 0: // RFC 8949 §3.1 unsigned integer
        return toInteger(argument);
      case 1: // RFC 8949 §3.1 negative integer: -1 - argument
        return typeof argument === 'number' ? -1 - argument : toInteger(-1n - argument);
      case 2: // RFC 8949 §3.1 byte string
        return Uint8Array.from(this.take(this.length(argument))); // a copy, not a view into the payload
      case 3: // RFC 8949 §3.1 text string
        return this.text(this.take(this.length(argument)));
      case 4: {
        // RFC 8949 §3.1 array
        const count = this.length(argument);
        if (count > this.remaining()) throw truncated(); // every item takes at least one byte
        const array: unknown[] = [];
        for (let i = 0; i < count; i++) array.push(this.item(depth + 1));
        return array;
      }
      case 5: {
        // RFC 8949 §3.1 map
        const count = this.length(argument);
        if (count > this.remaining() / 2) throw truncated(); // every pair takes at least two bytes
        const map = new MapBuilder();
        for (let i = 0; i < count; i++) map.set(this.item(depth + 1), this.item(depth + 1));
        return map.object;
      }
      default: // 6: RFC 8949 §3.4 tagged data item
        return new CborTag(argument, this.item(depth + 1));
    }
  }

  /** RFC 8949 §3.2 indefinite-length items, closed by the break code 0xff. */
  private indefinite(major: number, depth: number): unknown {
    switch (major) {
      case 2:
      case 3: {
        // RFC 8949 §3.2.3: chunks are definite-length strings of the same major type
        const chunks: Uint8Array[] = [];
        for (;;) {
          const head = this.take(1)[0]!;
          if (head === 0xff) break;
          if (head >> 5 !== major || (head & 0x1f) === 31) {
            throw new CborError('bad chunk in an indefinite-length CBOR string');
          }
          const chunk = this.take(this.length(this.argument(head & 0x1f)));
          if (major === 3) this.text(chunk); // each chunk must be valid UTF-8 on its own
          chunks.push(chunk);
        }
        const joined = concat(chunks);
        return major === 2 ? joined : this.text(joined);
      }
      case 4: {
        const array: unknown[] = [];
        for (;;) {
          const value = this.itemOrBreak(depth + 1);
          if (value === BREAK) return array;
          array.push(value);
        }
      }
      case 5: {
        const map = new MapBuilder();
        for (;;) {
          const key = this.itemOrBreak(depth + 1);
          if (key === BREAK) return map.object;
          map.set(key, this.item(depth + 1));
        }
      }
      default: // RFC 8949 §3.2.4: no indefinite length for major types 0, 1 and 6
        throw new CborError(`indefinite length on CBOR major type ${major}`);
    }
  }

  /** RFC 8949 §3.3 floating-point numbers and simple values. */
  private simpleOrFloat(info: number): unknown {
    switch (info) {
      case 20:
        return false;
      case 21:
        return true;
      case 22:
        return null;
      case 23:
        return undefined;
      case 24: {
        const value = this.take(1)[0]!;
        // RFC 8949 §3.3: simple values 0..31 in the one-byte form are not well-formed
        if (value < 32) throw new CborError(`invalid CBOR simple value encoding (${value})`);
        return new CborSimple(value);
      }
      case 25:
        return halfToNumber(this.view.getUint16(this.advance(2)));
      case 26:
        return this.view.getFloat32(this.advance(4));
      case 27:
        return this.view.getFloat64(this.advance(8));
      case 31:
        return BREAK;
      default:
        if (info < 20) return new CborSimple(info);
        throw new CborError(`reserved CBOR additional information ${info}`); // 28..30
    }
  }

  /** RFC 8949 §3 the argument: the value itself (0..23) or the 1, 2, 4 or 8 bytes that follow. */
  private argument(info: number): number | bigint {
    if (info < 24) return info;
    switch (info) {
      case 24:
        return this.take(1)[0]!;
      case 25:
        return this.view.getUint16(this.advance(2));
      case 26:
        return this.view.getUint32(this.advance(4));
      case 27:
        return this.view.getBigUint64(this.advance(8));
      default:
        throw new CborError(`reserved CBOR additional information ${info}`); // 28..30, or 31 misplaced
    }
  }

  private length(argument: number | bigint): number {
    if (typeof argument === 'bigint' || argument > this.remaining()) throw truncated();
    return argument;
  }

  private text(bytes: Uint8Array): string {
    try {
      return utf8.decode(bytes);
    } catch {
      throw new CborError('invalid UTF-8 in a CBOR text string');
    }
  }

  private remaining(): number {
    return this.bytes.length - this.position;
  }

  /** Moves past `count` bytes and returns where they start. */
  private advance(count: number): number {
    if (count > this.remaining()) throw truncated();
    const start = this.position;
    this.position += count;
    return start;
  }

  private take(count: number): Uint8Array {
    const start = this.advance(count);
    return this.bytes.subarray(start, start + count);
  }
}

/** Collects a map's text-keyed entries into a plain object. */
class MapBuilder {
  readonly object: Record<string, unknown> = {};

  set(key: unknown, value: unknown): void {
    if (typeof key !== 'string') return; // the protocol's keys are text: others are ignored
    if (Object.hasOwn(this.object, key)) {
      throw new CborError(`duplicate key in a CBOR map`); // RFC 8949 §5.6
    }
    // defineProperty, not assignment: a "__proto__" key stays an ordinary own property
    Object.defineProperty(this.object, key, { value, enumerable: true, writable: true, configurable: true });
  }
}

/** A number when it is exact (|n| <= 2^53 - 1), otherwise the bigint. */
function toInteger(argument: number | bigint): number | bigint {
  if (typeof argument === 'number') return argument;
  const safe = argument <= BigInt(Number.MAX_SAFE_INTEGER) && argument >= BigInt(Number.MIN_SAFE_INTEGER);
  return safe ? Number(argument) : argument;
}

/** RFC 8949 Appendix D: IEEE 754 binary16 to a number. */
function halfToNumber(half: number): number {
  const exponent = (half >> 10) & 0x1f;
  const mantissa = half & 0x3ff;
  const magnitude =
    exponent === 0
      ? mantissa * 2 ** -24
      : exponent !== 31
        ? (mantissa + 1024) * 2 ** (exponent - 25)
        : mantissa === 0
          ? Infinity
          : NaN;
  return half & 0x8000 ? -magnitude : magnitude;
}

function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((sum, chunk) => sum + chunk.length, 0));
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}

function truncated(): CborError {
  return new CborError('truncated CBOR item');
}
