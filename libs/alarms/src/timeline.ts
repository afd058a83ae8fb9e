import { createHash } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import { AlarmEvent } from '@amr/persistence';

/**
 * The alarm timeline is append-only and hash-chained: each entry stores the hash of the one
 * before it and a SHA-256 over that hash and its own canonical content, so altering, removing or
 * reordering a stored entry breaks every hash after it. Every append goes through here.
 */
export const TIMELINE_HASH = 'sha256(prevHash + "\\n" + canonical JSON of {alarmId, at, type, data})';

/**
 * Appends one entry; holds the alarm's row lock until the caller's transaction ends. Two
 * statements in plain SQL (it is on every operator action): lock the alarm and read its last
 * hash, then insert.
 */
export async function appendEvent(
  tx: EntityManager,
  alarmId: string,
  type: string,
  data: Record<string, unknown> = {},
  at: Date = new Date(),
): Promise<AlarmEvent> {
  const [locked] = (await tx.query(LOCK_AND_LAST_HASH, [alarmId])) as { hash: string | null }[];
  const [event] = await insertChained(tx, alarmId, locked?.hash ?? null, [{ type, data }], at);
  return event!;
}

const LOCK_AND_LAST_HASH = `
  SELECT (SELECT e.hash FROM alarm_events e WHERE e.alarm_id = a.id ORDER BY e.id DESC LIMIT 1) AS hash
    FROM alarms a
   WHERE a.id = $1
     FOR UPDATE OF a`;

const INSERT_ENTRIES = `
  INSERT INTO alarm_events (alarm_id, at, type, data, prev_hash, hash)
  SELECT $1::uuid, $2::timestamptz, e.type, e.data, e.prev_hash, e.hash
    FROM unnest($3::text[], $4::jsonb[], $5::text[], $6::text[]) WITH ORDINALITY AS e(type, data, prev_hash, hash, n)
   ORDER BY e.n
  RETURNING id`;

/**
 * The first entries of an alarm created in this same transaction: nobody else can see it yet, so
 * there is no lock to take and no previous entry to read.
 */
export function startTimeline(tx: EntityManager, alarmId: string, entries: { type: string; data: Record<string, unknown> }[], at: Date): Promise<AlarmEvent[]> {
  return insertChained(tx, alarmId, null, entries, at);
}

async function insertChained(
  tx: EntityManager,
  alarmId: string,
  prevHash: string | null,
  entries: { type: string; data: Record<string, unknown> }[],
  at: Date,
): Promise<AlarmEvent[]> {
  const rows = chainEntries(alarmId, prevHash, entries, at);
  const ids = (await tx.query(INSERT_ENTRIES, [
    alarmId,
    at,
    rows.map((r) => r.type),
    rows.map((r) => JSON.stringify(r.data ?? {})),
    rows.map((r) => r.prevHash),
    rows.map((r) => r.hash),
  ])) as { id: string | number }[];
  return rows.map((row, i) => Object.assign(new AlarmEvent(), row, { id: Number(ids[i]!.id) }));
}

/** Timeline rows for entries appended after `prevHash` (the alarm's last entry), each hashed over its predecessor. */
export function chainEntries(
  alarmId: string,
  prevHash: string | null,
  entries: readonly { type: string; data: Record<string, unknown> }[],
  at: Date,
): { alarmId: string; at: Date; type: string; data: Record<string, unknown>; prevHash: string | null; hash: string }[] {
  return entries.map(({ type, data }) => {
    const row = { alarmId, at, type, data, prevHash, hash: entryHash(prevHash, { alarmId, at, type, data }) };
    prevHash = row.hash;
    return row;
  });
}

export function entryHash(prevHash: string | null, entry: { alarmId: string; at: Date; type: string; data: unknown }): string {
  const content = canonicalJson({ alarmId: entry.alarmId, at: entry.at.toISOString(), type: entry.type, data: entry.data ?? {} });
  return createHash('sha256').update(`${prevHash ?? ''}\n${content}`).digest('hex');
}

export interface ChainVerification {
  valid: boolean;
  entries: number;
  algorithm: string;
  /** The first entry whose stored hashes do not match its content or its predecessor. */
  firstInvalid?: { id: number; reason: string };
}

/** Recomputes the chain over stored entries (in append order). */
export function verifyChain(events: readonly AlarmEvent[]): ChainVerification {
  let prev: string | null = null;
  for (const e of events) {
    if ((e.prevHash ?? null) !== prev) {
      return { valid: false, entries: events.length, algorithm: TIMELINE_HASH, firstInvalid: { id: e.id, reason: 'prevHash does not match the previous entry (an entry was removed, inserted or reordered)' } };
    }
    const expected = entryHash(prev, e);
    if (e.hash !== expected) {
      return { valid: false, entries: events.length, algorithm: TIMELINE_HASH, firstInvalid: { id: e.id, reason: 'hash does not match the stored content (the entry was altered)' } };
    }
    prev = e.hash;
  }
  return { valid: true, entries: events.length, algorithm: TIMELINE_HASH };
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
