/**
 * Key-by-key validation of a decoded map (CONTRACT §3). Checks throw a ProtocolError that the
 * message parsers catch and return: nothing here escapes the public API as an exception.
 */
import { CborSimple, CborTag } from './cbor.js';
import { isPlainMap } from './codec.js';
import { ProtocolError } from './errors.js';

/** Validates one value; `path` names it in the error (`loc.lat`). */
export type Check<T> = (value: unknown, path: string) => T;

/** Reads known keys of one map; unknown keys are never looked at (CONTRACT §3 "ignored"). */
export class Fields {
  constructor(
    private readonly map: Record<string, unknown>,
    private readonly prefix = '',
  ) {}

  /** `null` (JSON, CBOR 0xf6) and `undefined` (CBOR 0xf7) count as absent. */
  required<T>(key: string, check: Check<T>): T {
    const value = this.get(key);
    if (value === undefined) throw new ProtocolError('missing-field', `${this.path(key)}: required but missing`, this.path(key));
    return check(value, this.path(key));
  }

  optional<T>(key: string, check: Check<T>): T | undefined {
    const value = this.get(key);
    return value === undefined ? undefined : check(value, this.path(key));
  }

  private get(key: string): unknown {
    if (!Object.hasOwn(this.map, key)) return undefined;
    const value = this.map[key];
    return value === null ? undefined : value;
  }

  private path(key: string): string {
    return this.prefix + key;
  }
}

/** An integer in [min, max]. Floats, NaN, booleans, strings, tags: wrong type; bigints: out of range. */
export function integer(min: number, max: number, expected = `an integer from ${min} to ${max}`): Check<number> {
  return (value, path) => {
    if (typeof value === 'bigint') throw outOfRange(path, expected, value);
    if (typeof value !== 'number' || !Number.isInteger(value)) throw wrongType(path, expected, value);
    if (value < min || value > max) throw outOfRange(path, expected, value);
    return value + 0; // -0 becomes 0
  };
}

/** A finite number in [min, max]. */
export function number(min: number, max: number, expected = `a number from ${min} to ${max}`): Check<number> {
  return (value, path) => {
    if (typeof value === 'bigint') throw outOfRange(path, expected, value);
    if (typeof value !== 'number' || !Number.isFinite(value)) throw wrongType(path, expected, value);
    if (value < min || value > max) throw outOfRange(path, expected, value);
    return value;
  };
}

/** One of a fixed set of strings. */
export function oneOf<T extends string>(values: readonly T[]): Check<T> {
  const expected = `one of ${values.join(', ')}`;
  return (value, path) => {
    if (typeof value !== 'string') throw wrongType(path, expected, value);
    if (!(values as readonly string[]).includes(value)) throw outOfRange(path, expected, value);
    return value as T;
  };
}

/** A string of at most `maxLength` characters (Unicode code points). */
export function string(maxLength = Infinity): Check<string> {
  const expected = maxLength === Infinity ? 'a string' : `a string of at most ${maxLength} characters`;
  return (value, path) => {
    if (typeof value !== 'string') throw wrongType(path, expected, value);
    if ([...value].length > maxLength) throw outOfRange(path, expected, value);
    return value;
  };
}

/** A nested map, read by `read`. */
export function map<T>(read: (fields: Fields) => T): Check<T> {
  return (value, path) => {
    if (!isPlainMap(value)) throw wrongType(path, 'a map', value);
    return read(new Fields(value, `${path}.`));
  };
}

/** The object without its `undefined` properties (CONTRACT §3 output: only known keys, all set). */
export function compact<T extends object>(object: T): T {
  return Object.fromEntries(Object.entries(object).filter(([, value]) => value !== undefined)) as T;
}

function wrongType(path: string, expected: string, value: unknown): ProtocolError {
  return new ProtocolError('wrong-type', `${path}: expected ${expected}, got ${describe(value)}`, path);
}

function outOfRange(path: string, expected: string, value: unknown): ProtocolError {
  return new ProtocolError('out-of-range', `${path}: expected ${expected}, got ${describe(value)}`, path);
}

/** A short, printable description of a device's value, safe to echo in a reason. */
export function describe(value: unknown): string {
  switch (typeof value) {
    case 'number':
      return Object.is(value, -0) ? '0' : String(value);
    case 'bigint':
      return value.toString();
    case 'boolean':
      return String(value);
    case 'string': {
      const codePoints = [...value];
      return codePoints.length <= 20 ? JSON.stringify(value) : `a string of ${codePoints.length} characters`;
    }
    case 'undefined':
      return 'nothing';
  }
  if (value === null) return 'null';
  if (value instanceof CborTag) return `CBOR tag ${value.tag}`;
  if (value instanceof CborSimple) return `CBOR simple value ${value.value}`;
  if (value instanceof Uint8Array) return 'a byte string';
  if (Array.isArray(value)) return 'an array';
  if (isPlainMap(value)) return 'a map';
  return 'an object';
}
