import { Logger } from '@nestjs/common';
import type { Observable } from 'rxjs';
import type { DataSource } from 'typeorm';
import type { AmrConfig } from '@amr/config';
import { GroupCommit } from '@amr/persistence';
import { EventRelay, LogWakeups, type LoggedEvent } from './event-relay.js';
import type { Metrics } from '../process/metrics.js';

/** CONTRACT §4 Event (SSE): the change, and the alarm or alert as JSON. */
export type PlatformEventType =
  | 'alarm.received'
  | 'alarm.pressed'
  | 'alarm.accepted'
  | 'alarm.dispatched'
  | 'alarm.closed'
  | 'alarm.position'
  | 'alarm.escalated'
  | 'alert.raised'
  | 'alert.cleared'
  | 'alert.acknowledged';

export interface PlatformEvent {
  readonly type: PlatformEventType;
  /** The CICs entitled to see it; an integration sees only events of its own CIC. */
  readonly cicIds: readonly string[];
  readonly data: unknown;
}

export type { LoggedEvent } from './event-relay.js';

/** Runs one statement in the caller's transaction (a TypeORM EntityManager's `query`, or a `Sql`). */
export type Execute = (text: string, values: unknown[]) => Promise<unknown>;

/**
 * Inserts events into the log, in order, from `$n` (a JSON array of {type, cic_ids, data}); usable
 * as a data-modifying CTE of a larger statement. The log's trigger fills the webhook outbox and
 * sends NOTIFY, both in the same transaction.
 */
export function insertEventsSql(param: number): string {
  return `INSERT INTO platform_events (type, cic_ids, data)
          SELECT x.type, x.cic_ids, x.data
            FROM ROWS FROM (jsonb_to_recordset($${param}::jsonb) AS (type text, cic_ids text[], data jsonb))
                 WITH ORDINALITY AS x(type, cic_ids, data, n)
           ORDER BY x.n`;
}

/** The JSON a statement of insertEventsSql takes. */
export function eventRows(events: readonly PlatformEvent[]): string {
  return JSON.stringify(events.map((e) => ({ type: e.type, cic_ids: e.cicIds, data: e.data })));
}

/** Events written in one statement at most by `publish`. */
const MAX_BATCH = 500;

interface Pending {
  readonly event: PlatformEvent;
  readonly done: () => void;
}

/**
 * The platform's events, through the database's event log (docs/architecture.md, "Events"): a
 * change and its event are written in one transaction (`append`), or an announcement on its own
 * (`publish`); every process reads the log in order and hands it to its SSE streams (`head`,
 * `since`), woken by its own commits and, across processes, by PostgreSQL's NOTIFY. So an alarm
 * stored on one node reaches the streams of every node, a stream can resume from any event id on
 * any node, and the webhook outbox is filled in the event's transaction.
 */
export class PlatformEvents {
  private readonly logger = new Logger('Events');
  private readonly wakeups: LogWakeups;
  private readonly relay: EventRelay;
  private readonly writes: GroupCommit<Pending>;

  constructor(private readonly db: DataSource, config: AmrConfig, metrics?: Metrics) {
    this.wakeups = new LogWakeups(config.database.url);
    this.relay = new EventRelay(db, this.wakeups, metrics ? (seconds) => metrics.eventLogDelay.observe(seconds) : undefined);
    this.writes = new GroupCommit((batch) => this.write(batch), { maxBatch: MAX_BATCH });
  }

  /** Writes events in the caller's transaction; call `committed()` once it has committed. */
  static async append(execute: Execute, events: readonly PlatformEvent[]): Promise<void> {
    if (events.length === 0) return;
    await execute(insertEventsSql(1), [eventRows(events)]);
  }

  /** A transaction of this process that appended events has committed: streams read them now. */
  committed(): void {
    this.wakeups.wake();
  }

  /**
   * Writes an announcement in a transaction of its own (with the others of the moment). Resolves
   * once it is stored; a failure is logged (the change itself stands in the database), never thrown.
   */
  publish(event: PlatformEvent): Promise<void> {
    return new Promise((done) => this.writes.add({ event, done }));
  }

  /** The id of the latest event this process has read: a stream that starts now starts after it. */
  head(): Promise<string> {
    return this.relay.head();
  }

  /** Every event after the one with this id (as given to SSE), then every new one: no gap. */
  since(eventId: string): Observable<LoggedEvent> {
    return this.relay.since(eventId);
  }

  /** Called whenever the log may have grown (a commit here, a NOTIFY from elsewhere): for pollers of the outbox. */
  onWritten(listener: () => void): () => void {
    return this.wakeups.subscribe(listener);
  }

  async close(): Promise<void> {
    await this.relay.close();
    await this.wakeups.close();
  }

  private async write(batch: Pending[]): Promise<void> {
    try {
      await this.db.query(insertEventsSql(1), [eventRows(batch.map((p) => p.event))]);
      this.committed();
    } catch (err) {
      this.logger.error(`${batch.length} event(s) not written: ${String(err)}`);
    } finally {
      for (const p of batch) p.done();
    }
  }
}

export { isEventId } from './event-relay.js';
