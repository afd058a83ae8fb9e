import { createHash, randomBytes } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import { AlarmEvent, type SqlStatement } from '@amr/persistence';

/**
 * The alarm timeline is append-only and hash-chained: each entry stores the hash of the one
 * before it and a SHA-256 over that hash and its own canonical content, so altering, removing or
 * reordering a stored entry breaks every hash after it. Every append goes through here.
 *
 * An entry's personal data (a position, an operator's free text) is kept apart from the rest, in
 * `personal` with a random salt, and the entry's hash covers only its digest. Erasing it (retention,
 * a case erased on request) removes the part and keeps the digest: the chain still verifies, and a
 * copy of the part kept elsewhere (an evidence export) can still be shown to be the original. The
 * salt keeps the digest from being reversed by trying every position.
 */
export const TIMELINE_HASH =
  'sha256(prevHash + "\\n" + canonical JSON of {alarmId, at, type, data, personal?}), personal = sha256(salt + "\\n" + canonical JSON of the personal part)';

/** An entry to append: `personal` is the part that is erased when the alarm's personal data is. */
export interface TimelineInput {
  type: string;
  data: Record<string, unknown>;
  personal?: Record<string, unknown>;
}

/** A chained row as stored. */
export interface ChainedRow {
  alarmId: string;
  at: Date;
  type: string;
  data: Record<string, unknown>;
  personal: { salt: string; data: Record<string, unknown> } | null;
  personalDigest: string | null;
  prevHash: string | null;
  hash: string;
}

/**
 * Appends one entry; holds the alarm's row lock until the caller's transaction ends. Two
 * statements in plain SQL (it is on every operator action): lock the alarm and read its last
 * hash, then insert.
 *
 * The caller must already hold the alarm's lock, taken by an earlier statement of its transaction
 * (every caller reads the alarm FOR UPDATE to decide what to do). The head is read by the same
 * statement that locks, and a statement that had to wait for the lock reads with the snapshot it
 * started with: it would miss an entry the lock's holder committed meanwhile, and chain the new
 * entry after the one before it — a fork in the timeline. With the lock already held, nothing is
 * waited for and the head is current.
 */
export async function appendEvent(
  tx: EntityManager,
  alarmId: string,
  type: string,
  data: Record<string, unknown> = {},
  at: Date = new Date(),
  personal?: Record<string, unknown>,
): Promise<AlarmEvent> {
  const [locked] = (await tx.query(LOCK_AND_LAST_HASH, [alarmId])) as { hash: string | null }[];
  const [event] = await insertChained(tx, alarmId, locked?.hash ?? null, [{ type, data, ...(personal ? { personal } : {}) }], at);
  return event!;
}

const LOCK_AND_LAST_HASH = `
  SELECT (SELECT e.hash FROM alarm_events e WHERE e.alarm_id = a.id ORDER BY e.id DESC LIMIT 1) AS hash
    FROM alarms a
   WHERE a.id = $1
     FOR UPDATE OF a`;

const INSERT_ENTRIES = `
  INSERT INTO alarm_events (alarm_id, at, type, data, personal, personal_digest, prev_hash, hash)
  SELECT $1::uuid, $2::timestamptz, e.type, e.data, e.personal, e.personal_digest, e.prev_hash, e.hash
    FROM unnest($3::text[], $4::jsonb[], $5::jsonb[], $6::text[], $7::text[], $8::text[])
         WITH ORDINALITY AS e(type, data, personal, personal_digest, prev_hash, hash, n)
   ORDER BY e.n
  RETURNING id`;

async function insertChained(
  tx: EntityManager,
  alarmId: string,
  prevHash: string | null,
  entries: TimelineInput[],
  at: Date,
): Promise<AlarmEvent[]> {
  const rows = chainEntries(alarmId, prevHash, entries, at);
  const ids = (await tx.query(INSERT_ENTRIES, [
    alarmId,
    at,
    rows.map((r) => r.type),
    rows.map((r) => JSON.stringify(r.data ?? {})),
    rows.map((r) => (r.personal ? JSON.stringify(r.personal) : null)),
    rows.map((r) => r.personalDigest),
    rows.map((r) => r.prevHash),
    rows.map((r) => r.hash),
  ])) as { id: string | number }[];
  return rows.map((row, i) => Object.assign(new AlarmEvent(), row, { id: Number(ids[i]!.id), erasedAt: null }));
}

/**
 * Reads the hash of each alarm's last timeline entry, which entries appended to it are chained
 * after: sent after the statement that locks those alarms (`Sql.together`), so it reads what a
 * lock's holder committed.
 */
export function timelineHeads(name: string, alarmIds: readonly string[]): SqlStatement {
  return { name, text: TIMELINE_HEADS, values: [alarmIds] };
}

/** The rows of `timelineHeads`, by alarm id. */
export function headsByAlarm(rows: readonly Record<string, unknown>[]): Map<string, string | null> {
  return new Map(rows.map((r) => [r.alarm_id as string, (r.hash as string | null) ?? null]));
}

const TIMELINE_HEADS = `SELECT DISTINCT ON (alarm_id) alarm_id, hash FROM alarm_events WHERE alarm_id = ANY($1::uuid[]) ORDER BY alarm_id, id DESC`;

/** Timeline rows for entries appended after `prevHash` (the alarm's last entry), each hashed over its predecessor. */
export function chainEntries(alarmId: string, prevHash: string | null, entries: readonly TimelineInput[], at: Date): ChainedRow[] {
  return entries.map(({ type, data, personal: part }) => {
    const personal = part ? { salt: randomBytes(16).toString('base64url'), data: part } : null;
    const personalDigest = personal ? personalPartDigest(personal) : null;
    const row = { alarmId, at, type, data, personal, personalDigest, prevHash, hash: entryHash(prevHash, { alarmId, at, type, data, personalDigest }) };
    prevHash = row.hash;
    return row;
  });
}

/**
 * The entry's hash. An entry without a personal part is hashed as it always was (entries written
 * before personal parts existed still verify); one with a personal part also covers its digest.
 */
export function entryHash(prevHash: string | null, entry: { alarmId: string; at: Date; type: string; data: unknown; personalDigest?: string | null }): string {
  const content = canonicalJson({
    alarmId: entry.alarmId,
    at: entry.at.toISOString(),
    type: entry.type,
    data: entry.data ?? {},
    ...(entry.personalDigest ? { personal: entry.personalDigest } : {}),
  });
  return createHash('sha256').update(`${prevHash ?? ''}\n${content}`).digest('hex');
}

export function personalPartDigest(personal: { salt: string; data: unknown }): string {
  return createHash('sha256').update(`${personal.salt}\n${canonicalJson(personal.data)}`).digest('hex');
}

export interface ChainVerification {
  valid: boolean;
  entries: number;
  algorithm: string;
  /** Entries whose personal part was erased: verified through the digest they keep. */
  erased: number;
  /**
   * Entries written before personal parts were kept apart, whose personal data was erased from their
   * content: their link in the chain is checked, their content can no longer be.
   */
  linkOnly?: number[];
  /** The first entry whose stored hashes do not match its content or its predecessor. */
  firstInvalid?: { id: number; reason: string };
}

type StoredEntry = Pick<AlarmEvent, 'id' | 'alarmId' | 'at' | 'type' | 'data' | 'prevHash' | 'hash'> &
  Partial<Pick<AlarmEvent, 'personal' | 'personalDigest' | 'erasedAt'>>;

/** Recomputes the chain over stored entries (in append order). */
export function verifyChain(events: readonly StoredEntry[]): ChainVerification {
  const result = { valid: true, entries: events.length, algorithm: TIMELINE_HASH, erased: 0 };
  const linkOnly: number[] = [];
  const invalid = (id: number, reason: string): ChainVerification => ({ ...result, valid: false, firstInvalid: { id, reason } });
  let prev: string | null = null;
  for (const e of events) {
    if ((e.prevHash ?? null) !== prev) return invalid(e.id, 'prevHash does not match the previous entry (an entry was removed, inserted or reordered)');
    if (e.erasedAt) result.erased++;
    if (e.personal && e.personalDigest !== personalPartDigest(e.personal)) return invalid(e.id, 'the personal part does not match its digest (it was altered)');
    if (e.personal && !e.personalDigest) return invalid(e.id, 'a personal part without its digest (the entry was altered)');
    if (e.erasedAt && !e.personalDigest) linkOnly.push(e.id);
    else if (e.hash !== entryHash(prev, e)) return invalid(e.id, 'hash does not match the stored content (the entry was altered)');
    prev = e.hash;
  }
  return linkOnly.length ? { ...result, linkOnly } : result;
}

/** JSON with object keys sorted at every level: jsonb does not keep key order. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value ?? null);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}
