/**
 * Value conversion that mirrors node-postgres (pg 8.x `lib/utils.js` prepareValue and the default
 * pg-types parsers), so that TypeORM sees the same values whichever engine is underneath.
 */

/** Parameters: what pg sends for a JS value (text format, or a Buffer for bytea). */
export function prepareValue(value: unknown, seen: unknown[] = []): string | Buffer | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'object') {
    if (Buffer.isBuffer(value)) return value;
    if (ArrayBuffer.isView(value)) return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
    if (value instanceof Date) return dateToString(value);
    if (Array.isArray(value)) return arrayString(value);
    return prepareObject(value as object, seen);
  }
  return String(value);
}

function prepareObject(value: object, seen: unknown[]): string | Buffer | null {
  const toPostgres = (value as { toPostgres?: (prepare: typeof prepareValue) => unknown }).toPostgres;
  if (typeof toPostgres === 'function') {
    if (seen.includes(value)) throw new Error(`circular reference detected while preparing "${String(value)}" for query`);
    return prepareValue(toPostgres.call(value, prepareValue), [...seen, value]);
  }
  return JSON.stringify(value);
}

function arrayString(values: unknown[]): string {
  const items = values.map((item) => {
    if (item === null || item === undefined) return 'NULL';
    if (Array.isArray(item)) return arrayString(item);
    if (ArrayBuffer.isView(item)) {
      return '\\\\x' + Buffer.from(item.buffer, item.byteOffset, item.byteLength).toString('hex');
    }
    const text = prepareValue(item);
    return '"' + String(text).replace(/\\/g, '\\\\').replace(/"/g, '\\"') + '"';
  });
  return '{' + items.join(',') + '}';
}

/** A Date as pg sends it: local time with the offset, millisecond precision. */
function dateToString(date: Date): string {
  if (Number.isNaN(date.getTime())) throw new RangeError('Invalid Date given as a query parameter');
  const pad = (n: number, width = 2) => String(n).padStart(width, '0');
  let year = date.getFullYear();
  const bc = year < 1;
  if (bc) year = Math.abs(year) + 1;
  let offset = -date.getTimezoneOffset();
  const sign = offset < 0 ? '-' : '+';
  offset = Math.abs(offset);
  return (
    `${pad(year, 4)}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}` +
    `T${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}.${pad(date.getMilliseconds(), 3)}` +
    `${sign}${pad(Math.floor(offset / 60))}:${pad(offset % 60)}` +
    (bc ? ' BC' : '')
  );
}

/**
 * int8 as a JS number when it fits exactly (|n| ≤ 2^53 − 1); otherwise the decimal text, as pg
 * returns it by default, so nothing is ever rounded silently.
 */
export function parseInt8(text: string): number | string {
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : text;
}

/** bytea text output (`\x0a0b…`) as a Buffer, as pg returns it. */
export function parseBytea(text: string): Buffer {
  if (text.startsWith('\\x')) return Buffer.from(text.slice(2), 'hex');
  // escape format (bytea_output = 'escape'): octal escapes and doubled backslashes
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '\\') {
      if (text[i + 1] === '\\') {
        bytes.push(0x5c);
        i += 1;
      } else {
        bytes.push(parseInt(text.slice(i + 1, i + 4), 8));
        i += 3;
      }
    } else bytes.push(text.charCodeAt(i));
  }
  return Buffer.from(bytes);
}
