/**
 * The messages of CONTRACT §3: parsers for every topic's payload (bytes in, a typed message or a
 * typed rejection out), the ack builder and the command validator. Pure: no I/O, no clock except
 * makeAck's overridable default.
 */
import { decodeMap, detectEncoding, isPlainMap, type Encoding } from './codec.js';
import { ProtocolError, toReason, type Result } from './errors.js';
import { compact, Fields, integer, map, number, oneOf, string, type Check } from './fields.js';

// ---- vocabularies ----------------------------------------------------------------------------

export type AlarmKind = 'panic' | 'test';
export type PositionSource = 'gnss' | 'cell' | 'wifi';
export type AckStage = 'received' | 'accepted' | 'dispatched' | 'closed' | 'rejected';
/** The stages of a stored alarm: every ack stage but `rejected` (a refused press is no alarm). */
export type AlarmStage = Exclude<AckStage, 'rejected'>;
export type Vibration = 'short' | 'double' | 'triple' | 'none' | 'long';
export type CmdName = CmdMessage['cmd'];

export const ALARM_KINDS: readonly AlarmKind[] = Object.freeze(['panic', 'test'] as const);
export const POSITION_SOURCES: readonly PositionSource[] = Object.freeze(['gnss', 'cell', 'wifi'] as const);
export const ACK_STAGES: readonly AckStage[] = Object.freeze([
  'received',
  'accepted',
  'dispatched',
  'closed',
  'rejected',
] as const);
export const ALARM_STAGES: readonly AlarmStage[] = Object.freeze(['received', 'accepted', 'dispatched', 'closed'] as const);
export const VIBRATIONS: readonly Vibration[] = Object.freeze(['short', 'double', 'triple', 'none', 'long'] as const);
export const CMD_NAMES: readonly CmdName[] = Object.freeze(['config', 'locate', 'vibrate'] as const);

/** Whether a stored string (a column, a timeline entry's type) names an alarm stage. */
export function isAlarmStage(value: unknown): value is AlarmStage {
  return (ALARM_STAGES as readonly unknown[]).includes(value);
}

// CONTRACT §3 ack: the vibration the device plays for each stage
export const VIBRATION: Readonly<Record<AckStage, Vibration>> = Object.freeze({
  received: 'short',
  accepted: 'double',
  dispatched: 'triple',
  closed: 'none',
  rejected: 'long',
});

/** Bounds of the config command, in seconds (CONTRACT §3 cmd). */
export const CMD_LIMITS = Object.freeze({
  hb: Object.freeze({ min: 60, max: 604_800 }), // one minute .. one week
  locEvery: Object.freeze({ min: 5, max: 3_600 }), // five seconds .. one hour; 0 = stop reporting
});

/** Longest firmware version string (CONTRACT §3 status `fw`). */
export const MAX_FW_LENGTH = 64;

export const UINT32_MAX = 0xffff_ffff;

// ---- message shapes (CONTRACT §3) -------------------------------------------------------------

export interface Position {
  lat: number;
  lon: number;
  acc?: number;
  ts?: number;
  src?: PositionSource;
}

export interface ServingCell {
  mcc?: number;
  mnc?: number;
  tac?: number;
  cid?: number;
  rsrp?: number;
}

export interface AlarmMessage {
  seq: number;
  ts?: number;
  kind: AlarmKind;
  loc?: Position;
  cell?: ServingCell;
  bat?: number;
}

export interface LocMessage extends Position {
  seq: number;
}

export interface StatusMessage {
  seq: number;
  ts?: number;
  bat?: number;
  rsrp?: number;
  fw?: string;
  loc?: Position;
}

export interface AckMessage {
  seq?: number;
  alarm?: string;
  stage: AckStage;
  vib: Vibration;
  reason?: string;
  ts: number;
}

export type CmdMessage =
  | { cmd: 'config'; hb?: number; locEvery?: number }
  | { cmd: 'locate' }
  | { cmd: 'vibrate'; vib?: Vibration };

/**
 * A command as the platform sends it: a stored command carries its id as the extra key `id`
 * (devices ignore unknown keys, CONTRACT §3), so the device's PUBACK can be matched to it.
 */
export type OutgoingCmd = CmdMessage & { id?: string };

export function withCommandId(cmd: CmdMessage, id: string): OutgoingCmd {
  return { ...cmd, id };
}

export interface Decoded<T> {
  ok: true;
  message: T;
  encoding: Encoding;
}

export interface Rejected {
  ok: false;
  error: ProtocolError;
  /** The payload's encoding as far as its first byte tells, null when it tells nothing. */
  encoding: Encoding | null;
  /** Set when `seq` could be read as a valid uint32 although something else was wrong. */
  seq?: number;
}

// ---- field checks ------------------------------------------------------------------------------

const uint32 = integer(0, UINT32_MAX, 'an unsigned 32-bit integer');
const uint = integer(0, Number.MAX_SAFE_INTEGER, 'an unsigned integer');
const percent = integer(0, 100);
const rsrp = number(-200, 0); // dBm
const latitude = number(-90, 90); // WGS84 degrees
const longitude = number(-180, 180);
const accuracy = number(0, Number.MAX_VALUE, 'a non-negative number');

function readPosition(fields: Fields): Position {
  return compact({
    lat: fields.required('lat', latitude),
    lon: fields.required('lon', longitude),
    acc: fields.optional('acc', accuracy),
    ts: fields.optional('ts', uint),
    src: fields.optional('src', oneOf(POSITION_SOURCES)),
  });
}

const position: Check<Position> = map(readPosition);

const servingCell: Check<ServingCell> = map((fields) =>
  compact({
    mcc: fields.optional('mcc', integer(0, 999)),
    mnc: fields.optional('mnc', integer(0, 999)),
    tac: fields.optional('tac', integer(0, UINT32_MAX, 'an unsigned 32-bit integer')),
    cid: fields.optional('cid', integer(0, UINT32_MAX, 'an unsigned 32-bit integer')),
    rsrp: fields.optional('rsrp', rsrp),
  }),
);

// ---- readers, one per message: keys in the order of the CONTRACT §3 tables -------------------

// CONTRACT §3 alarm
function readAlarm(fields: Fields): AlarmMessage {
  return compact({
    seq: fields.required('seq', uint32),
    ts: fields.optional('ts', uint),
    kind: fields.optional('kind', oneOf(ALARM_KINDS)) ?? 'panic',
    loc: fields.optional('loc', position),
    cell: fields.optional('cell', servingCell),
    bat: fields.optional('bat', percent),
  });
}

// CONTRACT §3 loc: seq plus the keys of alarm.loc at the top level
function readLoc(fields: Fields): LocMessage {
  const seq = fields.required('seq', uint32);
  return { seq, ...readPosition(fields) };
}

// CONTRACT §3 status
function readStatus(fields: Fields): StatusMessage {
  return compact({
    seq: fields.required('seq', uint32),
    ts: fields.optional('ts', uint),
    bat: fields.optional('bat', percent),
    rsrp: fields.optional('rsrp', rsrp),
    fw: fields.optional('fw', string(MAX_FW_LENGTH)),
    loc: fields.optional('loc', position),
  });
}

// CONTRACT §3 ack (ts in milliseconds)
function readAck(fields: Fields): AckMessage {
  return compact({
    seq: fields.optional('seq', uint32),
    alarm: fields.optional('alarm', string()),
    stage: fields.required('stage', oneOf(ACK_STAGES)),
    vib: fields.required('vib', oneOf(VIBRATIONS)),
    reason: fields.optional('reason', string()),
    ts: fields.required('ts', uint),
  });
}

// CONTRACT §3 cmd
function readCmd(fields: Fields): CmdMessage {
  const cmd = fields.required('cmd', oneOf(CMD_NAMES));
  switch (cmd) {
    case 'config': {
      const config = compact({
        cmd,
        hb: fields.optional('hb', integer(CMD_LIMITS.hb.min, CMD_LIMITS.hb.max)),
        locEvery: fields.optional('locEvery', locationPeriod),
      });
      if (config.hb === undefined && config.locEvery === undefined) {
        throw new ProtocolError('missing-field', 'config: needs hb, locEvery or both');
      }
      return config;
    }
    case 'locate':
      return { cmd };
    case 'vibrate':
      return compact({ cmd, vib: fields.optional('vib', oneOf(VIBRATIONS)) });
  }
}

// ---- public parsers -----------------------------------------------------------------------------

/** Parses an `amr/v1/dev/{d}/alarm` payload (CONTRACT §3 alarm). `kind` defaults to `panic`. */
export function parseAlarm(bytes: Uint8Array): Decoded<AlarmMessage> | Rejected {
  return parsePayload(bytes, readAlarm);
}

/** Parses an `amr/v1/dev/{d}/loc` payload (CONTRACT §3 loc). */
export function parseLoc(bytes: Uint8Array): Decoded<LocMessage> | Rejected {
  return parsePayload(bytes, readLoc);
}

/** Parses an `amr/v1/dev/{d}/status` payload (CONTRACT §3 status). */
export function parseStatus(bytes: Uint8Array): Decoded<StatusMessage> | Rejected {
  return parsePayload(bytes, readStatus);
}

/** Parses an `amr/v1/dev/{d}/ack` payload, as a device does (CONTRACT §3 ack). */
export function parseAck(bytes: Uint8Array): Decoded<AckMessage> | Rejected {
  return parsePayload(bytes, readAck);
}

/** Parses an `amr/v1/dev/{d}/cmd` payload, as a device does (CONTRACT §3 cmd). */
export function parseCmd(bytes: Uint8Array): Decoded<CmdMessage> | Rejected {
  return parsePayload(bytes, readCmd);
}

/** Validates a command given as a value, e.g. an HTTP request's JSON body (CONTRACT §4 commands). */
export function validateCmd(value: unknown): Result<CmdMessage> {
  // a DTO instance is as good as a plain object here; arrays, strings, null are not commands
  if (typeof value !== 'object' || value === null || Array.isArray(value) || ArrayBuffer.isView(value)) {
    return { ok: false, error: new ProtocolError('not-a-map', 'a command must be a map (JSON object)') };
  }
  const caught = attempt(() => readCmd(new Fields(isPlainMap(value) ? value : { ...value })));
  return caught instanceof ProtocolError ? { ok: false, error: caught } : { ok: true, value: caught };
}

/**
 * Builds an ack (CONTRACT §3 ack): `vib` follows the stage (VIBRATION), `ts` is the server clock in
 * Unix milliseconds. `reason` is only sent with `rejected` and is made printable ASCII of at most
 * 120 characters; it is dropped for the other stages.
 */
export function makeAck(
  stage: AckStage,
  fields: { seq?: number; alarm?: string; reason?: string },
  nowMs: number = Date.now(),
): AckMessage {
  return compact({
    seq: fields.seq,
    alarm: fields.alarm,
    stage,
    vib: VIBRATION[stage],
    reason: stage === 'rejected' && fields.reason !== undefined ? toReason(fields.reason) : undefined,
    ts: Math.floor(nowMs),
  });
}

// ---- plumbing --------------------------------------------------------------------------------

function parsePayload<T>(bytes: Uint8Array, read: (fields: Fields) => T): Decoded<T> | Rejected {
  const decoded = decodeMap(bytes);
  if (!decoded.ok) {
    // the first byte may still say which encoding the device meant, even when it is too long
    const encoding = decoded.error.code === 'empty' ? null : detectEncoding(bytes);
    return { ok: false, error: decoded.error, encoding };
  }
  const { map: payload, encoding } = decoded.value;
  const fields = new Fields(payload);
  const message = attempt(() => read(fields));
  if (!(message instanceof ProtocolError)) return { ok: true, message, encoding };
  // CONTRACT §3 ack: the rejected ack carries seq when it could be read
  const seq = attempt(() => fields.optional('seq', uint32));
  return typeof seq === 'number' ? { ok: false, error: message, encoding, seq } : { ok: false, error: message, encoding };
}

/** Runs a reader; a ProtocolError comes back as a value, anything else is a bug and is rethrown. */
function attempt<T>(run: () => T): T | ProtocolError {
  try {
    return run();
  } catch (error) {
    if (error instanceof ProtocolError) return error;
    throw error;
  }
}

/** `locEvery`: 0 stops in-alarm location reports (sent when an alarm closes), else 5 s .. 1 h. */
const locationPeriod: Check<number> = (value, path) =>
  value === 0 ? 0 : integer(CMD_LIMITS.locEvery.min, CMD_LIMITS.locEvery.max, `0 (off) or an integer from ${CMD_LIMITS.locEvery.min} to ${CMD_LIMITS.locEvery.max}`)(value, path);
