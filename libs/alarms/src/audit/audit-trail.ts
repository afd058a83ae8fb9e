import { Inject, Injectable, Logger } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { GroupCommit, inTransaction, type Sql } from '@amr/persistence';
import { DATA_SOURCE, Metrics } from '@amr/runtime';
import { AUDIT_HASH, chainAudit, verifyAudit, type AuditEntry, type AuditRecord, type AuditVerification } from './audit-chain.js';

/** Records appended in one transaction at most. */
const MAX_BATCH = 500;
/** Serialises the writers of the chain, in every process of the deployment (pg_advisory_xact_lock). */
const CHAIN_LOCK = 0x61756474; // "audt"
/** Entries read per statement while the whole chain is verified. */
const VERIFY_CHUNK = 5_000;
/** An alarm's entries in its evidence export at the most; GET /api/v1/audit?target= pages through the rest. */
export const EVIDENCE_AUDIT_MAX = 5_000;

export interface AuditFilter {
  principal?: string;
  cicId?: string;
  target?: string;
  action?: string;
  from?: Date;
  to?: Date;
  limit: number;
  offset: number;
}

/** An alarm's audit entries, each checked against its hash and its place in the chain. */
export interface AlarmAudit {
  entries: AuditEntryView[];
  /** False when there were more than EVIDENCE_AUDIT_MAX: the oldest are given. */
  complete: boolean;
  verification: AuditVerification;
}

export type AuditEntryView = Omit<AuditEntry, 'at'> & { at: string };

interface Pending {
  readonly record: AuditRecord;
  readonly done: () => void;
}

const COLUMNS = 'id, at, principal, cic_id, method, route, action, targets, status, details, prev_hash, hash';

/**
 * The audit trail (docs/security.md, "Audit trail"): one append-only, hash-chained table of API
 * calls. Records are written with group commit, like the delivery recorder's: written at once when
 * the trail is idle, and those that arrive meanwhile together in the next transaction, which takes
 * the chain's lock, reads its head and inserts the batch in one statement.
 *
 * A record that cannot be stored is not lost silently: it is written whole to the log at error
 * level and counted (`amr_audit_write_failures_total`), and `record` still resolves — the call it
 * describes has already happened and been answered for. Nothing in the code updates or deletes an
 * entry, and the table's trigger refuses it.
 */
@Injectable()
export class AuditTrail {
  private readonly logger = new Logger('Audit');
  private readonly batches = new GroupCommit<Pending>((batch) => this.write(batch), { maxBatch: MAX_BATCH });

  constructor(
    @Inject(DATA_SOURCE) private readonly db: DataSource,
    private readonly metrics: Metrics,
  ) {}

  /** Resolves once the record is committed (or, failing that, logged and counted). Never rejects. */
  record(record: AuditRecord): Promise<void> {
    return new Promise((done) => this.batches.add({ record, done }));
  }

  /** Entries matching the filter, newest first. */
  async list(filter: AuditFilter): Promise<AuditEntryView[]> {
    const where: string[] = [];
    const values: unknown[] = [];
    const add = (condition: string, value: unknown) => {
      values.push(value);
      where.push(condition.replace('?', `$${values.length}`));
    };
    if (filter.principal !== undefined) add('principal = ?', filter.principal);
    if (filter.cicId !== undefined) add('cic_id = ?', filter.cicId);
    if (filter.target !== undefined) add('targets @> ARRAY[?::text]', filter.target);
    if (filter.action !== undefined) add('action = ?', filter.action);
    if (filter.from !== undefined) add('at >= ?', filter.from);
    if (filter.to !== undefined) add('at < ?', filter.to);
    values.push(filter.limit, filter.offset);
    const rows = (await this.db.query(
      `SELECT ${COLUMNS} FROM audit_entries ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
        ORDER BY id DESC LIMIT $${values.length - 1} OFFSET $${values.length}`,
      values,
    )) as Record<string, unknown>[];
    return rows.map((row) => view(entryFromRow(row)));
  }

  /** Walks the whole chain, oldest first, and says whether every entry still matches its hash and follows its predecessor. */
  async verify(): Promise<AuditVerification & { head: { id: number; hash: string } | null }> {
    let prev: string | null = null;
    let after = 0;
    let count = 0;
    let head: { id: number; hash: string } | null = null;
    for (;;) {
      const rows = (await this.db.query(`SELECT ${COLUMNS} FROM audit_entries WHERE id > $1 ORDER BY id LIMIT ${VERIFY_CHUNK}`, [after])) as Record<string, unknown>[];
      if (rows.length === 0) break;
      const entries = rows.map(entryFromRow);
      const start = prev;
      const result = verifyAudit(entries, (_, i) => (i === 0 ? start : entries[i - 1]!.hash));
      if (!result.valid) return { ...result, entries: count + entries.length, head: null };
      count += entries.length;
      const last = entries[entries.length - 1]!;
      [prev, after, head] = [last.hash, last.id, { id: last.id, hash: last.hash }];
    }
    return { valid: true, entries: count, algorithm: AUDIT_HASH, head };
  }

  /**
   * The entries naming an alarm (or any other target), oldest first, each verified against its
   * chain predecessor; only the calls of one CIC's integrations when `cicId` is given.
   */
  async forTarget(target: string, cicId?: string): Promise<AlarmAudit> {
    const rows = (await this.db.query(
      `SELECT ${COLUMNS.split(', ').map((c) => `e.${c}`).join(', ')},
              (SELECT p.hash FROM audit_entries p WHERE p.id < e.id ORDER BY p.id DESC LIMIT 1) AS chain_prev
         FROM audit_entries e
        WHERE e.targets @> ARRAY[$1::text] AND ($2::text IS NULL OR e.cic_id = $2)
        ORDER BY e.id
        LIMIT ${EVIDENCE_AUDIT_MAX + 1}`,
      [target, cicId ?? null],
    )) as Record<string, unknown>[];
    const complete = rows.length <= EVIDENCE_AUDIT_MAX;
    const kept = rows.slice(0, EVIDENCE_AUDIT_MAX);
    const entries = kept.map(entryFromRow);
    const verification = verifyAudit(entries, (_, i) => (kept[i]!.chain_prev as string | null) ?? null);
    return { entries: entries.map(view), complete, verification };
  }

  private async write(batch: Pending[]): Promise<void> {
    try {
      await inTransaction(this.db, (sql) => append(sql, batch.map((p) => p.record)));
    } catch (err) {
      if (batch.length > 1) {
        this.logger.warn(`a batch of ${batch.length} audit entries failed (${String(err)}); storing them one by one`);
        for (const item of batch) await this.write([item]);
        return;
      }
      this.metrics.auditWriteFailures.inc();
      this.logger.error(`audit entry not stored (${String(err)}): ${JSON.stringify(batch[0]!.record)}`);
    }
    for (const item of batch) item.done();
  }
}

/**
 * Takes the chain's lock and reads its head in one round trip (the head by a statement of its own,
 * after the lock is held), and appends the records after it in one statement.
 */
async function append(sql: Sql, records: readonly AuditRecord[]): Promise<void> {
  const [, [head]] = await sql.together([
    { name: 'audit-lock', text: 'SELECT pg_advisory_xact_lock($1)', values: [CHAIN_LOCK] },
    { name: 'audit-head', text: 'SELECT hash FROM audit_entries ORDER BY id DESC LIMIT 1', values: [] },
  ]);
  const rows = chainAudit((head?.hash as string | undefined) ?? null, records).map((e) => ({
    at: e.at.toISOString(),
    principal: e.principal,
    cic_id: e.cicId,
    method: e.method,
    route: e.route,
    action: e.action,
    targets: e.targets,
    status: e.status,
    details: e.details,
    prev_hash: e.prevHash,
    hash: e.hash,
  }));
  await sql(
    'audit-insert',
    `INSERT INTO audit_entries (at, principal, cic_id, method, route, action, targets, status, details, prev_hash, hash)
     SELECT x.at, x.principal, x.cic_id, x.method, x.route, x.action, x.targets, x.status, x.details, x.prev_hash, x.hash
       FROM ROWS FROM (jsonb_to_recordset($1::jsonb) AS (at timestamptz, principal text, cic_id text, method text, route text, action text,
                                                        targets text[], status integer, details jsonb, prev_hash text, hash text))
            WITH ORDINALITY AS x(at, principal, cic_id, method, route, action, targets, status, details, prev_hash, hash, n)
      ORDER BY x.n`,
    [JSON.stringify(rows)],
    true,
  );
}

function entryFromRow(row: Record<string, unknown>): AuditEntry {
  return {
    id: Number(row.id),
    at: row.at instanceof Date ? row.at : new Date(String(row.at)),
    principal: String(row.principal),
    cicId: (row.cic_id as string | null) ?? null,
    method: String(row.method),
    route: String(row.route),
    action: String(row.action),
    targets: (row.targets as string[] | null) ?? [],
    status: Number(row.status),
    details: (row.details as Record<string, unknown> | null) ?? {},
    prevHash: (row.prev_hash as string | null) ?? null,
    hash: String(row.hash),
  };
}

function view(entry: AuditEntry): AuditEntryView {
  return { ...entry, at: entry.at.toISOString() };
}
