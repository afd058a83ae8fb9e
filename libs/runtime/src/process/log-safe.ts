/** Longest text of one untrusted value in a log line, before escaping. */
const DEFAULT_MAX_LENGTH = 200;

/**
 * What must never reach a log line raw: the backslash (so that an escape in the output is always
 * one of ours), C0 controls (newline, carriage return, ESC …), DEL, C1 controls, the Unicode line
 * and paragraph separators, the bidirectional controls (which reorder what a terminal shows) and
 * lone surrogates.
 */
const UNSAFE =
  /[\\\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

const SHORT: Record<string, string> = { '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\b': '\\b', '\f': '\\f' };

function escape(char: string): string {
  return SHORT[char] ?? `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`;
}

function text(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('utf8');
  if (value instanceof Error) return value.message;
  if (value !== null && typeof value === 'object') {
    try {
      return JSON.stringify(value) ?? String(value);
    } catch {
      return String(value);
    }
  }
  return String(value);
}

/**
 * Renders a value a device or a client controls (a topic, a client id, an error message) for a log
 * line: control characters escaped as in a JSON string (`\n`, `\u001b`), so that it can neither
 * start a forged line nor drive the terminal, and cut to `maxLength` characters.
 */
export function logSafe(value: unknown, maxLength = DEFAULT_MAX_LENGTH): string {
  const raw = text(value);
  let cut = raw.length > maxLength ? raw.slice(0, maxLength) : raw;
  // Never split a surrogate pair: its first half alone would be escaped as a lone surrogate.
  if (cut.length < raw.length && /[\ud800-\udbff]$/.test(cut)) cut = cut.slice(0, -1);
  const safe = cut.replace(UNSAFE, escape);
  return cut.length < raw.length ? `${safe}…(${raw.length} chars)` : safe;
}
