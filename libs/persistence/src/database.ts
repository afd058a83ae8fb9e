import { mkdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { applyDefaultCoverage } from './belgian-cic-areas.js';
import pg from 'pg';
import { DataSource, type DataSourceOptions } from 'typeorm';
import { DATA_DIR_TEMPLATE, emptyDataDir, prepareDataDir } from './pglite/data-dir.js';
import { PGLITE_START_PARAMS } from './pglite/settings.js';
import { EmbeddedCheckpoints, syncDirectory } from './pglite/checkpoints.js';
import { createPgliteDriver } from './pglite/pglite-pg-driver.js';
import { parseInt8 } from './pglite/pg-values.js';
import { ENTITIES, MIGRATIONS } from './schema.js';

export interface DatabaseOptions {
  /** PostgreSQL connection URL (`postgres://user:pass@host:5432/db`). Unset: the embedded PGlite. */
  url?: string;
  /** PGlite data directory (created if missing), or `memory://` for a throw-away database. */
  dataDir: string;
  /** Log every SQL statement (TypeORM logger). */
  logging?: boolean;
}

/** The database cannot be reached or opened. The message is one line: what failed and how to fix it. */
export class DatabaseUnavailableError extends Error {
  override readonly name = 'DatabaseUnavailableError';
}

/** How long a PostgreSQL connection attempt may take before giving up. */
const CONNECT_TIMEOUT_MS = 5_000;
/**
 * How long a caller may wait for the embedded database's single connection. Long enough for any
 * real queue; finite so that a self-deadlock (a query outside a transaction issued while that
 * transaction holds the connection) fails instead of hanging forever.
 */
const PGLITE_ACQUIRE_TIMEOUT_MS = 30_000;
/** pg_advisory_lock key that serialises migrations between processes sharing one PostgreSQL. */
const MIGRATION_LOCK_KEY = 0x616d72; // 'amr'

/** The PGlite instance behind each embedded DataSource (closed by closeDatabase). */
const embedded = new WeakMap<DataSource, { db: PGlite; dir: string; checkpoints?: EmbeddedCheckpoints }>();
/** Data directories open in this process: PGlite must not open one directory twice. */
const openDirs = new Set<string>();

/**
 * int8 (and int8[]) as JS numbers when exact, like the embedded driver does, so that values
 * TypeORM reads without a column transformer (ids RETURNING from an INSERT) are numbers too.
 * Per pool (pg `types` option), not pg's process-wide defaults.
 */
const defaultTypeParser = pg.types.getTypeParser as (oid: number, format?: string) => (value: string) => unknown;
const PG_TYPES = {
  getTypeParser(oid: number, format?: 'text' | 'binary'): (value: string) => unknown {
    if (format !== 'binary') {
      if (oid === 20) return parseInt8;
      if (oid === 1016) {
        const parseArray = defaultTypeParser(1016, 'text');
        return (value) => mapDeep(parseArray(value), (item) => parseInt8(item as string));
      }
    }
    return defaultTypeParser(oid, format);
  },
};

function mapDeep(value: unknown, fn: (item: unknown) => unknown): unknown {
  if (Array.isArray(value)) return value.map((v) => mapDeep(v, fn));
  return value === null ? null : fn(value);
}

function commonOptions(options: DatabaseOptions) {
  return {
    type: 'postgres',
    entities: ENTITIES,
    migrations: MIGRATIONS,
    migrationsTableName: 'migrations',
    migrationsRun: false, // run explicitly below, under a lock
    migrationsTransactionMode: 'all',
    synchronize: false,
    // gen_random_uuid() is built into PostgreSQL ≥ 13 and PGlite: nothing to install
    uuidExtension: 'pgcrypto',
    installExtensions: false,
    logging: options.logging ?? false,
  } as const satisfies DataSourceOptions;
}

/**
 * Opens the database and applies pending migrations. `url` set: PostgreSQL through pg; unset:
 * PGlite at `dataDir`. Throws DatabaseUnavailableError when it cannot be reached or opened.
 */
export async function openDatabase(options: DatabaseOptions): Promise<DataSource> {
  const ds = options.url ? await openPostgres(options.url, options) : await openPglite(options.dataDir, options);
  try {
    await runMigrations(ds, Boolean(options.url));
  } catch (err) {
    await closeDatabase(ds).catch(() => undefined);
    throw err;
  }
  return ds;
}

/** A connection taken from a pool, and how to give it back. */
export interface TakenConnection {
  readonly client: unknown;
  release(): Promise<void> | void;
}

/** Where a hot path takes its connections: the DataSource's shared pool, or connections of its own. */
export interface ConnectionSource {
  take(): Promise<TakenConnection>;
  /** Its connections are node-postgres clients of a PostgreSQL server (not the embedded database's). */
  readonly nodePostgres?: boolean;
}

/**
 * Whether a DataSource's (or a source's) connections are node-postgres clients of a PostgreSQL
 * server, which take several statements in one query (inline-statements.ts); the embedded
 * database's driver does not.
 */
export function speaksNodePostgres(db: DataSource | ConnectionSource): boolean {
  if (!(db instanceof DataSource)) return db.nodePostgres === true;
  return !embedded.has(db) && Boolean((db.options as { url?: string }).url);
}

/** The pools of reserved connections of each PostgreSQL DataSource, ended with it. */
const reservedPools = new WeakMap<DataSource, pg.Pool[]>();

/**
 * Connections of a hot path's own (the presses, the broker's CONNECTs), beside the shared pool of
 * 20, so that its transactions never wait for a connection behind HTTP requests and sweeps — the
 * shared pool's queue is where a press waited up to 100 ms under an operator's load. `max` is the
 * path's own concurrency. On the embedded database, which has one connection, the shared pool.
 */
export function reservedConnections(ds: DataSource, name: string, max: number): ConnectionSource {
  if (!speaksNodePostgres(ds)) {
    return {
      async take() {
        const runner = ds.createQueryRunner();
        const client = await runner.connect();
        return { client, release: () => runner.release() };
      },
    };
  }
  const pool = new pg.Pool({ connectionString: (ds.options as { url: string }).url, max, types: PG_TYPES, application_name: `amr-${name}`, connectionTimeoutMillis: CONNECT_TIMEOUT_MS });
  // A connection that breaks while idle is dropped by the pool; the next take opens another.
  pool.on('error', () => undefined);
  reservedPools.set(ds, [...(reservedPools.get(ds) ?? []), pool]);
  return {
    nodePostgres: true,
    async take() {
      const client = await pool.connect();
      return { client, release: () => client.release() };
    },
  };
}

/** Destroys the DataSource and, for the embedded database, closes PGlite. */
export async function closeDatabase(ds: DataSource): Promise<void> {
  const pglite = embedded.get(ds);
  try {
    await pglite?.checkpoints?.stop();
    const pools = reservedPools.get(ds) ?? [];
    reservedPools.delete(ds);
    await Promise.all(pools.map((pool) => pool.end().catch(() => undefined)));
    if (ds.isInitialized) await ds.destroy();
  } finally {
    if (pglite) {
      embedded.delete(ds);
      try {
        if (!pglite.db.closed) await pglite.db.close();
        // PGlite's closing checkpoint wrote its pages without an fsync that reaches the disk.
        if (pglite.checkpoints) await syncDirectory(pglite.dir);
      } finally {
        openDirs.delete(pglite.dir);
      }
    }
  }
}

/** For tests: empties every table except `cics` and `migrations`, and restarts the id sequences. */
export async function resetDatabase(ds: DataSource): Promise<void> {
  const keep = ['cics', ds.options.migrationsTableName ?? 'migrations'];
  const rows: Array<{ tablename: string }> = await ds.query(
    `SELECT tablename FROM pg_tables WHERE schemaname = current_schema() AND tablename <> ALL($1) ORDER BY tablename`,
    [keep],
  );
  if (rows.length === 0) return;
  const tables = rows.map((r) => ds.driver.escape(r.tablename)).join(', ');
  await ds.query(`TRUNCATE TABLE ${tables} RESTART IDENTITY CASCADE`);
  // cics is kept (it is reference data), with its coverage areas and backups back to the defaults.
  await applyDefaultCoverage((sql, params) => ds.query(sql, params));
}

async function openPostgres(url: string, options: DatabaseOptions): Promise<DataSource> {
  const target = describeUrl(url);
  const ds = new DataSource({
    ...commonOptions(options),
    driver: pg,
    url,
    connectTimeoutMS: CONNECT_TIMEOUT_MS,
    applicationName: 'amr',
    // the hot paths (presses, telemetry, deliveries, views) take one connection each, in turn
    extra: { types: PG_TYPES, max: 20 },
  });
  try {
    await ds.initialize();
  } catch (err) {
    await disconnectQuietly(ds);
    throw postgresUnavailable(err, target);
  }
  return ds;
}

async function openPglite(dataDir: string, options: DatabaseOptions): Promise<DataSource> {
  const inMemory = dataDir.startsWith('memory://');
  const dir = inMemory ? dataDir : resolve(dataDir);
  const fix = 'or set DATABASE_URL to use PostgreSQL';
  if (!inMemory) {
    if (openDirs.has(dir)) {
      throw new DatabaseUnavailableError(
        `Cannot open the embedded database at ${dir}: it is already open in this process; close it first or use another directory`,
      );
    }
    try {
      mkdirSync(dir, { recursive: true });
    } catch (err) {
      throw new DatabaseUnavailableError(
        `Cannot create the embedded database directory ${dir} (${reason(err)}): choose a writable directory ${fix}`,
      );
    }
    openDirs.add(dir); // before any await: a concurrent open of the same directory must fail
  }
  let db: PGlite;
  try {
    db = await startPglite(dir, inMemory);
  } catch (err) {
    openDirs.delete(dir);
    throw new DatabaseUnavailableError(
      `Cannot open the embedded database at ${dir} (${reason(err)}): check that it is an empty or PGlite data directory that this user can write, ${fix}`,
    );
  }
  const ds = new DataSource({
    ...commonOptions(options),
    driver: createPgliteDriver(db, { acquireTimeoutMs: PGLITE_ACQUIRE_TIMEOUT_MS }),
  });
  embedded.set(ds, { db, dir });
  try {
    await ds.initialize();
  } catch (err) {
    await disconnectQuietly(ds);
    await closeDatabase(ds).catch(() => undefined);
    throw new DatabaseUnavailableError(`Cannot open the embedded database at ${dir} (${reason(err)}): delete or move the directory, ${fix}`);
  }
  if (!inMemory) {
    // A start after a crash ends its recovery with a checkpoint: its pages go to the disk now.
    await syncDirectory(dir);
    const checkpoints = new EmbeddedCheckpoints(ds, dir);
    checkpoints.start();
    embedded.set(ds, { db, dir, checkpoints });
  }
  return ds;
}

/**
 * Starts PGlite with the embedded settings. A new database is a copy of the shipped template
 * (pglite/data-dir.ts), not the product of initdb; if the template does not start with this PGlite
 * (it was made by another version), the copy is removed and PGlite runs initdb after all.
 */
async function startPglite(dir: string, inMemory: boolean): Promise<PGlite> {
  const options = { startParams: [...PGLITE_START_PARAMS] };
  if (inMemory) {
    let template: Blob | undefined;
    try {
      template = new Blob([readFileSync(DATA_DIR_TEMPLATE)]);
    } catch {
      // no template: initdb
    }
    if (template) {
      try {
        return await PGlite.create(dir, { ...options, loadDataDir: template });
      } catch {
        // another PGlite's template: initdb below
      }
    }
    return PGlite.create(dir, options);
  }
  const state = await prepareDataDir(dir);
  try {
    return await PGlite.create(dir, options);
  } catch (err) {
    if (state !== 'seeded') throw err;
    emptyDataDir(dir);
    return PGlite.create(dir, options);
  }
}

/** Migrations, one process at a time when several share a PostgreSQL server. */
async function runMigrations(ds: DataSource, shared: boolean): Promise<void> {
  if (!shared) {
    // PGlite: a single process and a single connection (a lock held on it would deadlock)
    await ds.runMigrations({ transaction: 'all' });
    return;
  }
  const lock = ds.createQueryRunner();
  try {
    await lock.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    await ds.runMigrations({ transaction: 'all' });
  } finally {
    await lock.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]).catch(() => undefined);
    await lock.release();
  }
}

/** After a failed initialize(): close whatever pool the driver had opened. */
async function disconnectQuietly(ds: DataSource): Promise<void> {
  if (ds.isInitialized) {
    await ds.destroy().catch(() => undefined);
    return;
  }
  const driver = ds.driver as unknown as { master?: unknown; disconnect(): Promise<void> };
  if (driver.master) await driver.disconnect().catch(() => undefined);
}

interface UrlTarget {
  /** host:port, never credentials */
  where: string;
  /** empty when the URL names none (pg then uses its defaults) */
  user: string;
  database: string;
  password: string;
}

function describeUrl(url: string): UrlTarget {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    // never echo the URL: it may hold a password
    throw new DatabaseUnavailableError(
      'DATABASE_URL is not a valid URL: use postgres://user:password@host:5432/database, or unset it to use the embedded database',
    );
  }
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') {
    throw new DatabaseUnavailableError(
      `DATABASE_URL must start with postgres:// (got ${parsed.protocol}//): fix it, or unset it to use the embedded database`,
    );
  }
  const host = parsed.hostname || parsed.searchParams.get('host') || 'localhost';
  const port = parsed.port || parsed.searchParams.get('port') || '5432';
  return {
    where: host.startsWith('/') ? host : `${host}:${port}`,
    user: decodeURIComponent(parsed.username),
    database: decodeURIComponent(parsed.pathname.replace(/^\//, '')) || decodeURIComponent(parsed.username),
    password: decodeURIComponent(parsed.password),
  };
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'ENOENT', // unix socket path
]);

function postgresUnavailable(err: unknown, target: UrlTarget): DatabaseUnavailableError {
  const code = errorCode(err);
  const message = oneLine(errorMessage(err));
  const fix = 'check DATABASE_URL or unset it to use the embedded database';
  let text: string;
  if (code && NETWORK_CODES.has(code)) {
    text = `Cannot reach PostgreSQL at ${target.where} (${code}): ${fix}`;
  } else if (/timeout/i.test(message)) {
    text = `Cannot reach PostgreSQL at ${target.where} (no answer within ${CONNECT_TIMEOUT_MS / 1000} s): ${fix}`;
  } else if (code?.startsWith('28')) {
    const who = target.user ? `user "${target.user}"` : 'the default user';
    text = `PostgreSQL at ${target.where} refused ${who} (${code} ${message}): check the user and password in DATABASE_URL`;
  } else if (code === '3D000') {
    text = `Database "${target.database || target.user || '(default)'}" does not exist on PostgreSQL at ${target.where}: create it (CREATE DATABASE) or ${fix}`;
  } else {
    text = `Cannot connect to PostgreSQL at ${target.where} (${code ? `${code} ` : ''}${message}): ${fix}`;
  }
  // defence in depth: nothing above quotes the URL, but never let a password through
  if (target.password.length >= 4) text = text.split(target.password).join('***');
  return new DatabaseUnavailableError(text, { cause: err });
}

function errorCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string') return code;
  const inner = (err as { errors?: unknown[] } | null)?.errors; // AggregateError (IPv4 + IPv6)
  return Array.isArray(inner) ? errorCode(inner[0]) : undefined;
}

function errorMessage(err: unknown): string {
  // not `instanceof Error`: errors from another realm (Node core under Jest's VM) fail that test
  const { message, name } = (typeof err === 'object' && err !== null ? err : {}) as { message?: unknown; name?: unknown };
  if (typeof message === 'string' && message) return message;
  return typeof name === 'string' ? name : String(err);
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

function reason(err: unknown): string {
  const code = errorCode(err);
  const message = oneLine(errorMessage(err));
  return code && !message.includes(code) ? `${code}: ${message}` : message;
}
