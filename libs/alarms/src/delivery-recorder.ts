import { Inject, Injectable, Logger } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import type { AmrConfig } from '@amr/config';
import { GroupCommit, inTransaction, type Sql } from '@amr/persistence';
import { AMR_CONFIG, DATA_SOURCE } from '@amr/runtime';
import type { CaseReadVia } from './case-reads.js';
import { chainEntries, headsByAlarm, timelineHeads } from './timeline.js';

/** An integration was given a case's data. */
export interface CaseReadInput {
  readonly caseId: string | null;
  readonly integrationId: string;
  readonly alarmId: string | null;
  readonly via: CaseReadVia;
}

/** An integration of the alarm's responsible CIC received the alarm. */
export interface DeliveryInput {
  readonly alarmId: string;
  readonly channel: 'confirmation' | 'webhook';
  readonly integrationId: string;
}

/** The alarm whose first delivery a call recorded. */
export interface RecordedDelivery {
  readonly id: string;
  readonly kind: string;
}

/** Items recorded in one transaction at most. */
const MAX_BATCH = 500;

type Item =
  | { readonly kind: 'read'; readonly read: CaseReadInput; readonly resolve: () => void }
  | { readonly kind: 'delivery'; readonly delivery: DeliveryInput; readonly resolve: (recorded: RecordedDelivery | null) => void };

interface LockedAlarm {
  id: string;
  kind: string;
  stage: string;
  cic_id: string;
  delivered: boolean;
}

/**
 * Records what the delivery channels hand to integrations — case reads, and the first delivery of
 * an alarm to its responsible CIC — with group commit: an item is written at once when the
 * recorder is idle, and the items that arrive while a transaction is in flight are written together
 * in the next one. A batch costs the same few statements whatever its size, in plain SQL.
 *
 * The first delivery of an alarm is recorded once: it sets `delivered_at`, moves the escalation
 * deadline to the accept timeout (a non-test alarm still `received`) and is appended to the
 * timeline, chained after the alarm's last entry. If a batch fails, its items are retried one by
 * one, so one bad item cannot sink the others; a failure is logged, never thrown at a caller.
 */
@Injectable()
export class DeliveryRecorder {
  private readonly logger = new Logger('DeliveryRecorder');
  private readonly batches = new GroupCommit<Item>((batch) => this.runBatch(batch), { maxBatch: MAX_BATCH });

  constructor(
    @Inject(DATA_SOURCE) private readonly db: DataSource,
    @Inject(AMR_CONFIG) private readonly config: AmrConfig,
  ) {}

  /** Resolves once the read is stored (or its failure logged). A read without a case is not stored. */
  caseRead(read: CaseReadInput): Promise<void> {
    if (!read.caseId) return Promise.resolve();
    return new Promise((resolve) => this.enqueue({ kind: 'read', read, resolve }));
  }

  /**
   * Resolves after the commit with the alarm if this call recorded its first delivery; with null
   * if the alarm was already delivered, is closed or gone, or the write failed.
   */
  delivery(delivery: DeliveryInput): Promise<RecordedDelivery | null> {
    return new Promise((resolve) => this.enqueue({ kind: 'delivery', delivery, resolve }));
  }

  private enqueue(item: Item): void {
    this.batches.add(item);
  }

  private async runBatch(batch: Item[]): Promise<void> {
    try {
      const recorded = await inTransaction(this.db, (sql) => this.write(sql, batch));
      batch.forEach((item, i) => settle(item, recorded[i] ?? null));
    } catch (err) {
      if (batch.length === 1) {
        this.logger.error(`${itemName(batch[0]!)} not recorded: ${String(err)}`);
        return settle(batch[0]!, null);
      }
      this.logger.warn(`a batch of ${batch.length} deliveries and case reads failed (${String(err)}); recording them one by one`);
      for (const item of batch) await this.runBatch([item]);
    }
  }

  /**
   * Writes a batch: locks the undelivered alarms (in id order, so concurrent writers cannot
   * deadlock) and reads their timeline heads under the lock in one round trip, then one statement
   * stores the case reads, the deliveries and their timeline entries. Returns, per item, the
   * delivery it recorded.
   */
  private async write(sql: Sql, batch: readonly Item[]): Promise<(RecordedDelivery | null)[]> {
    const reads = batch.flatMap((item) =>
      item.kind === 'read' ? [{ case_id: item.read.caseId, integration_id: item.read.integrationId, alarm_id: item.read.alarmId, via: item.read.via }] : [],
    );
    const recorded: (RecordedDelivery | null)[] = batch.map(() => null);
    const alarms: { id: string; at: string; next_escalation_at: string | null }[] = [];
    const events: Record<string, unknown>[] = [];

    const ids = [...new Set(batch.flatMap((item) => (item.kind === 'delivery' ? [item.delivery.alarmId] : [])))];
    if (ids.length > 0) {
      // By primary key only, the conditions checked here on the locked rows: with them in the
      // statement, the planner may scan the whole open-alarm index instead (its statistics taken
      // while few alarms were open), 8.6 ms a batch with 10,000 alarms open.
      // The timeline heads are read in the same round trip, after the locks (a statement of their own).
      const [rows, heads] = (await sql.together([
        {
          name: 'delivery-lock-alarms',
          text: `SELECT id, kind, stage, cic_id, delivered_at IS NOT NULL AS delivered FROM alarms WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE`,
          values: [ids],
        },
        timelineHeads('delivery-timeline-heads', ids),
      ])) as [LockedAlarm[], Record<string, unknown>[]];
      const locked = rows.filter((a) => !a.delivered && a.stage !== 'closed');
      if (locked.length > 0) {
        const head = headsByAlarm(heads);
        const undelivered = new Map(locked.map((a) => [a.id, a]));
        const at = new Date();
        const acceptBy = new Date(at.getTime() + this.config.alarms.acceptTimeoutS * 1000).toISOString();

        batch.forEach((item, i) => {
          if (item.kind !== 'delivery') return;
          const alarm = undelivered.get(item.delivery.alarmId);
          // The first delivery of an alarm in the batch records it; the others find it delivered.
          if (!alarm) return;
          undelivered.delete(alarm.id);
          const accepting = alarm.stage === 'received' && alarm.kind !== 'test';
          alarms.push({ id: alarm.id, at: at.toISOString(), next_escalation_at: accepting ? acceptBy : null });
          const [entry] = chainEntries(alarm.id, head.get(alarm.id) ?? null, [
            { type: 'delivered', data: { via: item.delivery.channel, integrationId: item.delivery.integrationId, cicId: alarm.cic_id } },
          ], at);
          events.push({ alarm_id: entry!.alarmId, at: entry!.at.toISOString(), type: entry!.type, data: entry!.data, prev_hash: entry!.prevHash, hash: entry!.hash });
          recorded[i] = { id: alarm.id, kind: alarm.kind };
        });
      }
    }

    if (reads.length === 0 && alarms.length === 0) return recorded;
    await sql(
      'delivery-write',
      `WITH
        reads AS (
          INSERT INTO case_reads (case_id, integration_id, alarm_id, via)
          SELECT x.case_id, x.integration_id, x.alarm_id, x.via
            FROM jsonb_to_recordset($1::jsonb) AS x(case_id uuid, integration_id uuid, alarm_id uuid, via text)),
        delivered AS (
          UPDATE alarms a SET delivered_at = x.at, next_escalation_at = x.next_escalation_at
            FROM jsonb_to_recordset($2::jsonb) AS x(id uuid, at timestamptz, next_escalation_at timestamptz)
           WHERE a.id = x.id)
       INSERT INTO alarm_events (alarm_id, at, type, data, prev_hash, hash)
       SELECT x.alarm_id, x.at, x.type, x.data, x.prev_hash, x.hash
         FROM ROWS FROM (jsonb_to_recordset($3::jsonb) AS (alarm_id uuid, at timestamptz, type text, data jsonb, prev_hash text, hash text))
              WITH ORDINALITY AS x(alarm_id, at, type, data, prev_hash, hash, n)
        ORDER BY x.n`,
      [reads, alarms, events].map((rows) => JSON.stringify(rows)),
      true,
    );
    return recorded;
  }
}

function settle(item: Item, recorded: RecordedDelivery | null): void {
  if (item.kind === 'read') item.resolve();
  else item.resolve(recorded);
}

function itemName(item: Item): string {
  return item.kind === 'read'
    ? `case read of case ${item.read.caseId} by integration ${item.read.integrationId} (${item.read.via})`
    : `delivery of alarm ${item.delivery.alarmId} to integration ${item.delivery.integrationId} (${item.delivery.channel})`;
}
