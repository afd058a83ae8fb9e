import { EventEmitter } from 'node:events';
import { types as pgliteTypes, type PGlite, type QueryOptions, type Results } from '@electric-sql/pglite';
import { FifoMutex } from './fifo-mutex.js';
import { parseBytea, parseInt8, prepareValue } from './pg-values.js';

/**
 * A node-postgres look-alike over ONE PGlite instance, handed to TypeORM through the postgres
 * `driver` option. It implements the part of `require('pg')` that TypeORM's PostgresDriver and
 * PostgresQueryRunner touch (typeorm 1.1: `new Pool(config)`, `pool.on('error')`,
 * `pool.connect(cb)`, `pool.end(cb)`, `client.query(text, values)`, `client.on/removeListener`,
 * and the `release(err?)` callback), plus the promise forms and `pool.query`.
 *
 * PGlite is a single session. To keep transactions isolated the pool lends out at most ONE
 * client at a time: `connect()` waits in a FIFO queue until the current client is released.
 * When a client comes back still inside a transaction (a caller forgot to commit, or gave up
 * mid-way), it is rolled back before the next caller gets the session.
 */

const INT8 = 20;
const INT8_ARRAY = 1016;
const BYTEA = 17;

/** Result parsers that make PGlite answer like pg does with our pool settings (database.ts). */
const PG_COMPAT_PARSERS: NonNullable<QueryOptions['parsers']> = {
  [INT8]: parseInt8,
  [INT8_ARRAY]: (text: string) => pgliteTypes.arrayParser(text, parseInt8, INT8_ARRAY),
  [BYTEA]: parseBytea,
};

/** bytea parameters may come as text (pg sends them as-is and the server parses them). */
const PG_COMPAT_SERIALIZERS: NonNullable<QueryOptions['serializers']> = {
  [BYTEA]: (value: unknown) =>
    value instanceof Uint8Array ? '\\x' + Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('hex') : String(value),
};

export interface PgliteDriverOptions {
  /**
   * How long `connect()` may wait for the session before failing, in ms (0 = wait forever).
   * A finite value turns a self-deadlock (code holding the session inside a transaction and
   * then asking for a second connection) into an error instead of a hang.
   */
  acquireTimeoutMs?: number;
}

export interface PgFieldDef {
  name: string;
  dataTypeID: number;
}

/** The shape of pg's `Result`. */
export interface PgQueryResult<R = Record<string, unknown>> {
  command: string;
  rowCount: number | null;
  oid: number | null;
  rows: R[];
  fields: PgFieldDef[];
}

export interface PgQueryConfig {
  text: string;
  values?: unknown[];
  rowMode?: 'array';
}

type QueryCallback = (err: Error | null, result?: PgQueryResult | PgQueryResult[]) => void;
type ConnectCallback = (err: Error | undefined, client?: PgliteClient, done?: (release?: unknown) => void) => void;

/** One lease of the PGlite session; obtained from `PglitePool.connect()`. */
export class PgliteClient extends EventEmitter {
  private released = false;

  /** @internal */
  constructor(
    private readonly db: PGlite,
    private readonly onRelease: (discard: boolean) => void,
  ) {
    super();
  }

  query(config: string | PgQueryConfig, values?: unknown[]): Promise<PgQueryResult>;
  query(config: string | PgQueryConfig, callback: QueryCallback): void;
  query(config: string | PgQueryConfig, values: unknown[] | undefined, callback: QueryCallback): void;
  query(
    config: string | PgQueryConfig,
    valuesOrCallback?: unknown[] | QueryCallback,
    callback?: QueryCallback,
  ): Promise<PgQueryResult> | void {
    const cb = typeof valuesOrCallback === 'function' ? valuesOrCallback : callback;
    const values = typeof valuesOrCallback === 'function' ? undefined : valuesOrCallback;
    const promise = this.run(config, values);
    if (!cb) return promise as Promise<PgQueryResult>;
    promise.then(
      (result) => cb(null, result),
      (err: Error) => cb(err),
    );
  }

  /**
   * Gives the session back. A truthy argument (pg: "destroy this connection") also resets the
   * session state (`DISCARD ALL`), the closest PGlite has to a fresh connection.
   */
  release(err?: unknown): void {
    if (this.released) throw new Error('Release called on client which has already been released to the pool.');
    this.released = true;
    this.removeAllListeners();
    this.onRelease(Boolean(err));
  }

  private async run(config: string | PgQueryConfig, values?: unknown[]): Promise<PgQueryResult | PgQueryResult[]> {
    if (this.released) throw new Error('Client was released to the pool: it cannot be used for queries any more.');
    const text = typeof config === 'string' ? config : config.text;
    const params = (typeof config === 'string' ? values : (config.values ?? values)) ?? [];
    if (typeof config === 'object' && 'submit' in config) {
      throw new Error('The PGlite driver does not support submittable queries (cursors, streams).');
    }
    const options: QueryOptions = {
      rowMode: typeof config === 'object' && config.rowMode === 'array' ? 'array' : 'object',
      parsers: PG_COMPAT_PARSERS,
      serializers: PG_COMPAT_SERIALIZERS,
      onNotice: (notice) => this.emit('notice', notice),
    };
    if (params.length > 0) {
      // extended protocol: one statement, $n parameters (pg does the same when values are given)
      const result = await this.db.query(text, params.map((v) => prepareValue(v)), options);
      return toPgResult(result);
    }
    // simple protocol: several statements allowed; pg answers an array when there are several
    const results = await this.db.exec(text, options);
    return results.length === 1 ? toPgResult(results[0]) : results.map(toPgResult);
  }
}

function toPgResult(result: Results<unknown>): PgQueryResult {
  const r = result as Results<unknown> & { command?: string; rowCount?: number };
  const command = r.command ?? '';
  return {
    command,
    rowCount: r.rowCount ?? null,
    oid: command === 'INSERT' ? 0 : null,
    rows: r.rows as Record<string, unknown>[],
    fields: r.fields.map((f) => ({ name: f.name, dataTypeID: f.dataTypeID })),
  };
}

/** Per-PGlite-instance session lock, shared by every pool over the same instance. */
const sessionLocks = new WeakMap<PGlite, FifoMutex>();

function sessionLock(db: PGlite): FifoMutex {
  let lock = sessionLocks.get(db);
  if (!lock) {
    lock = new FifoMutex();
    sessionLocks.set(db, lock);
  }
  return lock;
}

/** pg.Pool look-alike with exactly one connection (the PGlite session). */
export class PglitePool extends EventEmitter {
  private ended = false;
  private readonly pending = new Set<(err: Error) => void>();
  private readonly leased = new Set<PgliteClient>();
  private drained: Array<() => void> = [];

  /** @internal */
  constructor(
    private readonly db: PGlite,
    private readonly driverOptions: PgliteDriverOptions,
    /** pg pool options as TypeORM passes them; host, user, max… mean nothing here. */
    readonly options: Record<string, unknown> = {},
  ) {
    super();
  }

  get totalCount(): number {
    return 1;
  }

  get idleCount(): number {
    return this.leased.size === 0 && !sessionLock(this.db).isLocked ? 1 : 0;
  }

  get waitingCount(): number {
    return this.pending.size;
  }

  get ending(): boolean {
    return this.ended;
  }

  connect(): Promise<PgliteClient>;
  connect(callback: ConnectCallback): void;
  connect(callback?: ConnectCallback): Promise<PgliteClient> | void {
    const promise = this.acquire();
    if (!callback) return promise;
    promise.then(
      (client) => callback(undefined, client, (err?: unknown) => client.release(err)),
      (err: Error) => callback(err),
    );
  }

  query(config: string | PgQueryConfig, values?: unknown[]): Promise<PgQueryResult>;
  query(config: string | PgQueryConfig, callback: QueryCallback): void;
  query(config: string | PgQueryConfig, values: unknown[] | undefined, callback: QueryCallback): void;
  query(
    config: string | PgQueryConfig,
    valuesOrCallback?: unknown[] | QueryCallback,
    callback?: QueryCallback,
  ): Promise<PgQueryResult> | void {
    const cb = typeof valuesOrCallback === 'function' ? valuesOrCallback : callback;
    const values = typeof valuesOrCallback === 'function' ? undefined : valuesOrCallback;
    const promise = (async () => {
      const client = await this.acquire();
      try {
        return await client.query(config, values);
      } finally {
        client.release();
      }
    })();
    if (!cb) return promise;
    promise.then(
      (result) => cb(null, result),
      (err: Error) => cb(err),
    );
  }

  /** No new clients; queued `connect()` calls fail; resolves once every lent client is back. */
  end(): Promise<void>;
  end(callback: (err?: Error) => void): void;
  end(callback?: (err?: Error) => void): Promise<void> | void {
    if (this.ended) {
      const err = new Error('Called end on pool more than once');
      if (callback) return void callback(err);
      return Promise.reject(err);
    }
    this.ended = true;
    for (const reject of [...this.pending]) reject(new Error('Cannot use a pool after calling end on the pool'));
    const promise = this.leased.size === 0 ? Promise.resolve() : new Promise<void>((resolve) => this.drained.push(resolve));
    if (!callback) return promise;
    promise.then(() => callback(), callback);
  }

  private async acquire(): Promise<PgliteClient> {
    if (this.ended) throw new Error('Cannot use a pool after calling end on the pool');
    if (this.db.closed) throw new Error('The PGlite database is closed');
    const timeoutMs = this.driverOptions.acquireTimeoutMs ?? 0;
    let abort: ((err: Error) => void) | undefined;
    const aborted = new Promise<never>((_, reject) => {
      abort = reject;
    });
    aborted.catch(() => undefined);
    this.pending.add(abort!);
    const waiting = sessionLock(this.db).acquire(
      timeoutMs,
      () => new Error(`Timed out after ${timeoutMs} ms waiting for the PGlite connection (it serves one client at a time)`),
    );
    let unlock: () => void;
    try {
      unlock = await Promise.race([waiting, aborted]);
    } catch (err) {
      // aborted by end(): if the lock is granted later, hand it straight back
      waiting.then((release) => release(), () => undefined);
      throw err;
    } finally {
      this.pending.delete(abort!);
    }
    const client: PgliteClient = new PgliteClient(this.db, (discard) => {
      void this.resetSession(discard).finally(() => {
        this.leased.delete(client);
        unlock();
        this.emit('release', undefined, client);
        if (this.leased.size === 0) for (const resolve of this.drained.splice(0)) resolve();
      });
    });
    this.leased.add(client);
    this.emit('acquire', client);
    return client;
  }

  /** Leaves the session as a fresh connection would find it: no open transaction. */
  private async resetSession(discard: boolean): Promise<void> {
    if (this.db.closed) return;
    try {
      if (this.db.isInTransaction()) await this.db.exec('ROLLBACK');
      if (discard) await this.db.exec('DISCARD ALL');
    } catch (err) {
      // pg reports trouble with an idle connection on the pool's 'error' event (TypeORM listens)
      if (this.listenerCount('error') > 0) this.emit('error', err);
    }
  }
}

/** The object passed as TypeORM's postgres `driver` option: what TypeORM reads from `pg`. */
export interface PgliteDriverModule {
  Pool: new (config?: Record<string, unknown>) => PglitePool;
  /** pg exposes `defaults`; TypeORM only touches it for `parseInt8` (not supported here). */
  defaults: Record<string, never>;
}

/**
 * Builds a pg-compatible module over `db`. The caller owns `db` (create it, wait for it, close
 * it); `pool.end()` does not close it.
 */
export function createPgliteDriver(db: PGlite, options: PgliteDriverOptions = {}): PgliteDriverModule {
  class Pool extends PglitePool {
    constructor(config: Record<string, unknown> = {}) {
      super(db, options, config);
    }
  }
  return { Pool, defaults: {} };
}
