import { Logger } from '@nestjs/common';
import pg from 'pg';
import { Observable, Subject } from 'rxjs';
import type { DataSource } from 'typeorm';
import type { PlatformEvent } from './events.js';

/** An event as read from the log: `id` is its position, what SSE sends as the event id. */
export interface LoggedEvent extends PlatformEvent {
  readonly id: string;
}

/** The NOTIFY channel the log's trigger signals on. */
const CHANNEL = 'amr_events';
/** The log is read at least this often, in case a notification was missed (a reconnect). */
const POLL_MS = 1_000;
/** A lost LISTEN connection is opened again after this long. */
const RELISTEN_MS = 1_000;
/** Rows read per statement. */
const PAGE = 1_000;

/** A log position (tx, id), compared as numbers. */
interface Position {
  readonly tx: bigint;
  readonly id: bigint;
}

const START: Position = { tx: 0n, id: 0n };

/**
 * Rows after a position, in position order, only from transactions older than every transaction
 * still running: no row can later appear behind what was read (see the EventLog migration).
 */
const READ = `
  SELECT e.id::text AS position_id, e.tx::text AS position_tx, e.type, e.cic_ids, e.data, e.at FROM platform_events e
   WHERE (e.tx, e.id) > ($1::xid8, $2::bigint) AND e.tx < pg_snapshot_xmin(pg_current_snapshot())
   ORDER BY e.tx, e.id
   LIMIT $3`;
const HEAD = `
  SELECT e.id::text AS position_id, e.tx::text AS position_tx FROM platform_events e
   WHERE e.tx < pg_snapshot_xmin(pg_current_snapshot())
   ORDER BY e.tx DESC, e.id DESC
   LIMIT 1`;

/** Positions as text (a bigint and an xid8 do not fit a JavaScript number); named apart from the columns, which ORDER BY must compare as numbers. */
interface Row {
  position_id: string;
  position_tx: string;
  type: PlatformEvent['type'];
  cic_ids: string[];
  data: unknown;
  /** When it was written (before its commit). */
  at?: Date | string;
}

/**
 * Wake-ups for readers of the log: this process's own commits, and PostgreSQL's NOTIFY from the
 * other processes (one LISTEN connection, opened at the first subscriber). With the embedded
 * database every writer is in this process, so no LISTEN is needed.
 */
export class LogWakeups {
  private readonly logger = new Logger('Events');
  private readonly listeners = new Set<() => void>();
  private client: pg.Client | undefined;
  private started = false;
  private relisten: NodeJS.Timeout | undefined;
  private closed = false;
  private failing = false;

  constructor(private readonly databaseUrl: string | undefined) {}

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    this.start();
    return () => this.listeners.delete(listener);
  }

  wake(): void {
    for (const listener of this.listeners) listener();
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.relisten);
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }

  private start(): void {
    if (this.started || this.closed) return;
    this.started = true;
    if (this.databaseUrl) void this.listen();
  }

  private async listen(): Promise<void> {
    if (this.closed) return;
    const client = new pg.Client({ connectionString: this.databaseUrl, application_name: 'amr-events' });
    const retry = () => {
      if (this.client !== client) return;
      this.client = undefined;
      client.end().catch(() => undefined);
      if (!this.closed) this.relisten = setTimeout(() => void this.listen(), RELISTEN_MS);
    };
    this.client = client;
    client.on('notification', () => this.wake());
    client.on('error', (err) => {
      if (!this.failing) this.logger.warn(`event notifications lost (${err.message}); reading the log every ${POLL_MS} ms until they are back`);
      this.failing = true;
      retry();
    });
    client.on('end', retry);
    try {
      await client.connect();
      await client.query(`LISTEN ${CHANNEL}`);
      if (this.failing) this.logger.log('event notifications back');
      this.failing = false;
      this.wake(); // what was written while not listening
    } catch (err) {
      client.emit('error', err as Error);
    }
  }
}

/**
 * Reads the event log in order and hands each event to this process's subscribers. It starts at
 * the log's head when the first subscriber comes; `since` first replays what a reconnecting stream
 * missed, then joins the live events without a gap or a repeat.
 */
export class EventRelay {
  private readonly logger = new Logger('Events');
  private readonly subject = new Subject<LoggedEvent>();
  private cursor: Position | undefined;
  private reading: Promise<void> | undefined;
  private again = false;
  private unsubscribe: (() => void) | undefined;
  private poll: NodeJS.Timeout | undefined;
  private started: Promise<void> | undefined;
  private closed = false;

  /**
   * @param delay told, for every event passed on live, how long it was in the log (seconds, from
   *   its insert): its commit, the wait for every older transaction to end, and the read
   */
  constructor(
    private readonly db: DataSource,
    private readonly wakeups: LogWakeups,
    private readonly delay?: (seconds: number) => void,
  ) {}

  /** The events after `eventId`, then the live ones. */
  since(eventId: string): Observable<LoggedEvent> {
    return new Observable<LoggedEvent>((subscriber) => {
      const from = parsePosition(eventId);
      let last = from;
      let caughtUp = false;
      const held: LoggedEvent[] = [];
      const emit = (event: LoggedEvent) => {
        const position = parsePosition(event.id);
        if (compare(position, last) <= 0) return; // already replayed
        last = position;
        subscriber.next(event);
      };
      // Live events are held while the replay runs, then passed on after it.
      const subscription = this.subject.subscribe({
        next: (event) => (caughtUp ? emit(event) : held.push(event)),
        error: (err) => subscriber.error(err),
        complete: () => subscriber.complete(),
      });
      this.start();
      void (async () => {
        try {
          // After the relay has its starting point: what it will pass on live begins where this replay ends, or before.
          await this.started;
          let page: Row[];
          let position = from;
          do {
            page = await this.read(position);
            for (const row of page) emit(toEvent(row));
            if (page.length > 0) position = parsePosition(toEvent(page[page.length - 1]!).id);
          } while (page.length === PAGE && !subscriber.closed);
          caughtUp = true;
          for (const event of held.splice(0)) emit(event);
        } catch (err) {
          subscriber.error(err);
        }
      })();
      return subscription;
    });
  }

  /** The id of the last event passed on (or of the log's head when the relay started). */
  async head(): Promise<string> {
    this.start();
    await this.started;
    return formatPosition(this.cursor ?? START);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.unsubscribe?.();
    clearInterval(this.poll);
    await this.reading;
    this.subject.complete();
  }

  private start(): void {
    if (this.started || this.closed) return;
    this.started = (async () => {
      try {
        const [head] = (await this.db.query(HEAD)) as Pick<Row, 'position_id' | 'position_tx'>[];
        this.cursor = head ? { tx: BigInt(head.position_tx), id: BigInt(head.position_id) } : START;
      } catch (err) {
        this.logger.error(`event log not readable (${String(err)}); starting from its beginning when it is`);
        this.cursor = START;
      }
      this.unsubscribe = this.wakeups.subscribe(() => this.wake());
      // A notification may be missed (while LISTEN reconnects): the log is read at least this often.
      this.poll = setInterval(() => this.wake(), POLL_MS);
      this.poll.unref();
      this.wake();
    })();
  }

  private wake(): void {
    if (this.closed || !this.cursor) return;
    if (this.reading) {
      this.again = true;
      return;
    }
    this.reading = this.drain().finally(() => {
      this.reading = undefined;
      if (this.again) {
        this.again = false;
        this.wake();
      }
    });
  }

  private async drain(): Promise<void> {
    try {
      let page: Row[];
      do {
        page = await this.read(this.cursor!);
        const now = Date.now();
        for (const row of page) {
          const event = toEvent(row);
          this.cursor = parsePosition(event.id);
          if (this.delay && row.at) this.delay(Math.max(0, now - new Date(row.at).getTime()) / 1000);
          this.subject.next(event);
        }
      } while (page.length === PAGE && !this.closed);
    } catch (err) {
      if (!this.closed) this.logger.error(`event log not read: ${String(err)}`);
    }
  }

  private async read(after: Position): Promise<Row[]> {
    return (await this.db.query(READ, [after.tx.toString(), after.id.toString(), PAGE])) as Row[];
  }
}

function toEvent(row: Row): LoggedEvent {
  return { id: formatPosition({ tx: row.position_tx, id: row.position_id }), type: row.type, cicIds: row.cic_ids, data: row.data };
}

/** An event id as SSE carries it: the log position `<tx>-<id>`. */
export function isEventId(value: string): boolean {
  return /^\d{1,20}-\d{1,20}$/.test(value);
}

function formatPosition({ tx, id }: { tx: bigint | string; id: bigint | string }): string {
  return `${tx}-${id}`;
}

function parsePosition(eventId: string): Position {
  const [tx, id] = eventId.split('-');
  return { tx: BigInt(tx!), id: BigInt(id!) };
}

function compare(a: Position, b: Position): number {
  if (a.tx !== b.tx) return a.tx < b.tx ? -1 : 1;
  return a.id === b.id ? 0 : a.id < b.id ? -1 : 1;
}
