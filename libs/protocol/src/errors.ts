/**
 * Typed errors of the wire protocol. A `ProtocolError` is a value, not a crash: decoders return
 * it inside a `Result`/`Rejected` and never throw on device input (CONTRACT §3 "the process never
 * crashes on input").
 */

export type ProtocolErrorCode =
  | 'empty'
  | 'oversize'
  | 'unknown-encoding'
  | 'malformed'
  | 'not-a-map'
  | 'missing-field'
  | 'wrong-type'
  | 'out-of-range';

/** Longest `message`: it travels to the device as the `reason` of a rejected ack (CONTRACT §3 ack). */
export const MAX_REASON_LENGTH = 120;

export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';
  readonly code: ProtocolErrorCode;
  /** Dotted path of the offending key, e.g. `seq` or `loc.lat`, when one key is to blame. */
  readonly field?: string;

  constructor(code: ProtocolErrorCode, message: string, field?: string) {
    super(toReason(message));
    this.code = code;
    if (field !== undefined) this.field = field;
  }
}

export type Result<T> = { ok: true; value: T } | { ok: false; error: ProtocolError };

export function ok<T>(value: T): Result<T> {
  return { ok: true, value };
}

export function fail<T = never>(code: ProtocolErrorCode, message: string, field?: string): Result<T> {
  return { ok: false, error: new ProtocolError(code, message, field) };
}

/**
 * Makes any text safe as an ack `reason`: printable ASCII only (anything else becomes `?`), at most
 * MAX_REASON_LENGTH characters (cut with `...`). Device input quoted in a message can contain
 * anything, so this runs on every ProtocolError message.
 */
export function toReason(text: string): string {
  const printable = text.replace(/[^\x20-\x7e]/g, '?');
  return printable.length <= MAX_REASON_LENGTH
    ? printable
    : `${printable.slice(0, MAX_REASON_LENGTH - 3)}...`;
}
