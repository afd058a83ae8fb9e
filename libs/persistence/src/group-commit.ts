import type { DataSource } from 'typeorm';
import { speaksNodePostgres, type ConnectionSource, type TakenConnection } from './database.js';
import { executeStatement, prepareOnce } from './inline-statements.js';

/**
 * A statement on a connection, prepared under `name` the first time that connection runs it.
 * `final`: nothing follows it in the transaction, so its COMMIT may travel with it.
 */
export type Sql = ((name: string, text: string, values: unknown[], final?: boolean) => Promise<Record<string, unknown>[]>) & {
  /**
   * Several statements in one round trip on PostgreSQL (one after the other on the embedded
   * database): their rows, in order. Each statement runs once the one before it is done, with a
   * snapshot of its own (READ COMMITTED), so a read after a lock sees what the lock's holder
   * committed — as it would a statement of its own.
   */
  together(statements: readonly SqlStatement[], final?: boolean): Promise<Record<string, unknown>[][]>;
};

/** A statement of `Sql.together`. */
export interface SqlStatement {
  readonly name: string;
  readonly text: string;
  readonly values: unknown[];
}

/** What the hot paths need of a pg (or embedded-driver) connection. */
interface PgClient {
  query(config: string | { name?: string; text: string; values?: unknown[] }): Promise<{ rows: Record<string, unknown>[] } | { rows: Record<string, unknown>[] }[]>;
}

export interface TransactionOptions {
  /** Times each step (the connection, BEGIN, each statement by name, COMMIT). */
  timed?: StepTimer;
  /**
   * BEGIN travels with the first statement and COMMIT with the one marked `final`: two round
   * trips fewer (inline-statements.ts). PostgreSQL through node-postgres only, and by default there.
   */
  fewerRoundTrips?: boolean;
}

/**
 * Every statement of these transactions reaches its rows through an index on what it names (a
 * device, an alarm, a batch's ids). Their plans are made once per connection (generic), with the
 * statistics of that moment — and statistics taken while a table was empty or had no open alarm
 * made them scan whole tables for as long as the connection lived (a press batch's lookup 1 s on a
 * fresh database once 10,000 alarms were open). A sequential scan is never the plan wanted here,
 * so it is priced out: the plan stays per key whatever the statistics say.
 */
const BEGIN = 'BEGIN; SET LOCAL plan_cache_mode = force_generic_plan; SET LOCAL enable_seqscan = off';

/** The rows of a query's (last) result. */
function rowsOf(result: Awaited<ReturnType<PgClient['query']>>): Record<string, unknown>[] {
  return Array.isArray(result) ? result[result.length - 1]!.rows : result.rows;
}

/**
 * A transaction on one pooled connection, spoken to directly rather than through TypeORM: the
 * statements are prepared once per connection (named) and planned once (generic plans: they take
 * arrays, so one plan fits every batch), since planning them cost more than running them.
 */
export async function inTransaction<T>(db: DataSource | ConnectionSource, work: (sql: Sql) => Promise<T>, options: TransactionOptions = {}): Promise<T> {
  const step = options.timed ?? untimed;
  const fewerRoundTrips = options.fewerRoundTrips ?? speaksNodePostgres(db);
  const taken = await step('connection', () => take(db));
  const client = taken.client as PgClient;
  let begun = false;
  let committed = false;
  const together = async (statements: readonly SqlStatement[], final = false): Promise<Record<string, unknown>[][]> => {
    const label = statements.map((s) => s.name).join(' + ');
    if (committed) throw new Error(`${label}: the transaction was committed with the statement marked final`);
    if (!fewerRoundTrips) {
      const results: Record<string, unknown>[][] = [];
      for (const { name, text, values } of statements) results.push(await step(name, async () => rowsOf(await client.query({ name, text, values }))));
      return results;
    }
    if (begun && !final && statements.length === 1) {
      const { name, text, values } = statements[0]!;
      return [await step(name, async () => rowsOf(await client.query({ name, text, values })))];
    }
    const executes: string[] = [];
    for (const { name, text, values } of statements) executes.push(executeStatement(await prepareOnce(client, name, text), values));
    const parts = [...(begun ? [] : [BEGIN]), ...executes, ...(final ? ['COMMIT'] : [])];
    const steps = [...(begun ? [] : ['begin']), label, ...(final ? ['commit'] : [])].join(' + ');
    begun = true;
    committed = final;
    // a multi-statement query answers one result per statement, BEGIN's and COMMIT's included
    return step(steps, async () => {
      const results = (await client.query(parts.join('; '))) as { rows: Record<string, unknown>[] }[];
      const end = results.length - (final ? 1 : 0);
      return results.slice(end - statements.length, end).map((r) => r.rows);
    });
  };
  const sql: Sql = Object.assign(async (name: string, text: string, values: unknown[], final = false) => (await together([{ name, text, values }], final))[0]!, { together });
  try {
    if (!fewerRoundTrips) {
      await step('begin', () => client.query(BEGIN));
      begun = true;
    }
    const result = await work(sql);
    if (begun && !committed) await step('commit', () => client.query('COMMIT'));
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    await Promise.resolve(taken.release()).catch(() => undefined);
  }
}

/** A connection of the DataSource's shared pool, or of the source given. */
async function take(db: DataSource | ConnectionSource): Promise<TakenConnection> {
  if ('take' in db) return db.take();
  const runner = db.createQueryRunner();
  const client = await runner.connect();
  return { client, release: () => runner.release() };
}

/**
 * Times the steps of a transaction (taking a pooled connection, BEGIN, each named statement,
 * COMMIT), for a caller that shows where its time goes (a metric).
 */
export type StepTimer = <R>(step: string, run: () => Promise<R>) => Promise<R>;

const untimed: StepTimer = (_step, run) => run();

/** A StepTimer that reports each step's duration in seconds, failed steps included. */
export function stepTimer(observe: (step: string, seconds: number) => void): StepTimer {
  return async (step, run) => {
    const started = process.hrtime.bigint();
    try {
      return await run();
    } finally {
      observe(step, Number(process.hrtime.bigint() - started) / 1e9);
    }
  };
}

/** One prepared statement on a pooled connection, outside a transaction. */
export async function preparedQuery(db: DataSource | ConnectionSource, name: string, text: string, values: unknown[]): Promise<Record<string, unknown>[]> {
  const taken = await take(db);
  try {
    return rowsOf(await (taken.client as PgClient).query({ name, text, values }));
  } finally {
    await Promise.resolve(taken.release()).catch(() => undefined);
  }
}

/**
 * Group commit: items are handed to `run` in batches. A batch starts after the I/O of the current
 * turn of the event loop, so that everything read from the sockets in that turn joins it (the
 * embedded database works on this thread: without the turn, nothing new would have been read when
 * the previous batch ends); what arrives while `maxInFlight` batches run goes into the next one.
 */
export class GroupCommit<T> {
  private readonly pending: T[] = [];
  private inFlight = 0;
  private scheduled = false;

  constructor(
    private readonly run: (batch: T[]) => Promise<void>,
    private readonly options: {
      maxBatch: number;
      maxInFlight?: number;
      /**
       * Wait this long before starting a batch, for more items to join it (ms). For work that no
       * one waits on closely (heartbeats): its transactions are then at most one per `lingerMs`
       * and batch in flight, however the items trickle in.
       */
      lingerMs?: number;
    },
  ) {}

  add(item: T): void {
    this.pending.push(item);
    this.schedule();
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    const start = (): void => {
      this.scheduled = false;
      this.pump();
    };
    if (this.options.lingerMs) setTimeout(start, this.options.lingerMs);
    else setImmediate(start);
  }

  private pump(): void {
    while (this.inFlight < (this.options.maxInFlight ?? 1) && this.pending.length > 0) {
      const batch = this.pending.splice(0, this.options.maxBatch);
      this.inFlight++;
      void this.run(batch)
        .catch(() => undefined) // `run` settles its items itself
        .finally(() => {
          this.inFlight--;
          if (this.pending.length > 0) this.schedule();
        });
    }
  }
}
