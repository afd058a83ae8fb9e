import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { PGlite } from '@electric-sql/pglite';
import { createPgliteDriver, PgliteClient, PglitePool } from './pglite-pg-driver.js';

/** Lets queued promise callbacks run until `condition` holds (no timers, no sleeping). */
async function until(condition: () => boolean, turns = 10_000): Promise<void> {
  for (let i = 0; i < turns && !condition(); i++) await new Promise((r) => setImmediate(r));
  if (!condition()) throw new Error('condition never became true');
}

describe('createPgliteDriver', () => {
  let db: PGlite;
  let pool: PglitePool;

  beforeAll(async () => {
    db = await PGlite.create('memory://');
    const { Pool } = createPgliteDriver(db, { acquireTimeoutMs: 300 });
    pool = new Pool({ host: 'ignored', max: 10 });
    await pool.query('CREATE TABLE t (id bigserial PRIMARY KEY, v text, n int8, b bytea, j jsonb, a text[], at timestamptz)');
  }, 60_000);

  afterAll(async () => {
    await pool.end();
    await db.close();
  });

  it('answers with pg-shaped results (rows, rowCount, fields, command)', async () => {
    const insert = await pool.query('INSERT INTO t (v) VALUES ($1), ($2) RETURNING id', ['x', 'y']);
    expect(insert.command).toBe('INSERT');
    expect(insert.rowCount).toBe(2);
    expect(insert.rows).toEqual([{ id: 1 }, { id: 2 }]);
    expect(insert.fields).toEqual([{ name: 'id', dataTypeID: 20 }]);

    const update = await pool.query(`UPDATE t SET v = 'z' WHERE v = $1`, ['x']);
    expect(update).toMatchObject({ command: 'UPDATE', rowCount: 1, rows: [] });

    const ddl = await pool.query('CREATE TEMP TABLE scratch (x int)');
    expect(ddl).toMatchObject({ command: 'CREATE', rowCount: null });
  });

  it('converts parameters and results the way pg does', async () => {
    const at = new Date('2024-02-29T23:59:58.123Z');
    const bytes = Buffer.from([0, 1, 254, 255]);
    const { rows } = await pool.query(
      'INSERT INTO t (v, n, b, j, a, at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING v, n, b, j, a, at',
      [42, 2 ** 40, bytes, { nested: { ok: true }, list: [1, 2] }, ['a b', 'quo"te', 'back\\slash', null], at],
    );
    expect(rows[0]).toEqual({
      v: '42',
      n: 2 ** 40,
      b: bytes,
      j: { nested: { ok: true }, list: [1, 2] },
      a: ['a b', 'quo"te', 'back\\slash', null],
      at,
    });
    expect(Buffer.isBuffer(rows[0].b)).toBe(true);

    // int8 beyond 2^53 stays exact, as text (pg's default), instead of being rounded
    const big = await pool.query(`SELECT 9007199254740993::int8 AS n, '{1,9007199254740993}'::int8[] AS ns`);
    expect(big.rows[0]).toEqual({ n: '9007199254740993', ns: [1, '9007199254740993'] });
  });

  it('runs several statements when no parameters are given, answering an array like pg', async () => {
    const results = (await pool.query('SELECT 1 AS one; SELECT 2 AS two')) as unknown as Array<{ rows: unknown[] }>;
    expect(results.map((r) => r.rows)).toEqual([[{ one: 1 }], [{ two: 2 }]]);
  });

  it('supports the callback forms TypeORM uses', async () => {
    const [client, done] = await new Promise<[PgliteClient, (err?: unknown) => void]>((resolve, reject) =>
      pool.connect((err, c, d) => (err ? reject(err) : resolve([c!, d!]))),
    );
    const rows = await new Promise<unknown[]>((resolve, reject) =>
      client.query('SELECT $1::int AS n', [7], (err, result) => (err ? reject(err) : resolve((result as { rows: unknown[] }).rows))),
    );
    expect(rows).toEqual([{ n: 7 }]);
    done();
  });

  it('rejects a failing statement with the PostgreSQL error fields, and the client stays usable', async () => {
    const client = await pool.connect();
    try {
      await expect(client.query('SELECT * FROM missing_table')).rejects.toMatchObject({ code: '42P01' });
      await expect(client.query('SELECT 1 AS ok')).resolves.toMatchObject({ rows: [{ ok: 1 }] });
    } finally {
      client.release();
    }
  });

  it('lends one client at a time, to waiters in arrival order', async () => {
    const first = await pool.connect();
    const granted: string[] = [];
    const second = pool.connect().then((c) => (granted.push('second'), c));
    const third = pool.connect().then((c) => (granted.push('third'), c));
    await until(() => pool.waitingCount === 2);
    expect(granted).toEqual([]);

    first.release();
    const c2 = await second;
    expect(granted).toEqual(['second']);
    c2.release();
    const c3 = await third;
    expect(granted).toEqual(['second', 'third']);
    c3.release();
  });

  it('isolates transactions: a rolled-back write is never seen by the next client', async () => {
    const a = await pool.connect();
    await a.query('BEGIN');
    await a.query(`INSERT INTO t (v) VALUES ('uncommitted')`);
    let bRan = false;
    const b = pool.query(`SELECT count(*)::int AS n FROM t WHERE v = 'uncommitted'`).then((r) => ((bRan = true), r));
    await until(() => pool.waitingCount === 1);
    expect(bRan).toBe(false); // B waits for A's release

    await a.query('ROLLBACK');
    a.release();
    expect((await b).rows).toEqual([{ n: 0 }]);
  });

  it('rolls back a transaction left open when its client is released', async () => {
    const a = await pool.connect();
    await a.query('BEGIN');
    await a.query(`INSERT INTO t (v) VALUES ('abandoned')`);
    a.release(); // no COMMIT, no ROLLBACK
    const { rows } = await pool.query(`SELECT count(*)::int AS n FROM t WHERE v = 'abandoned'`);
    expect(rows).toEqual([{ n: 0 }]);
    expect(db.isInTransaction()).toBe(false);
  });

  it('refuses queries on a released client (the session may belong to someone else by then)', async () => {
    const a = await pool.connect();
    a.release();
    await expect(a.query('SELECT 1')).rejects.toThrow(/released/);
    expect(() => a.release()).toThrow(/already been released/);
  });

  it('gives up waiting after acquireTimeoutMs instead of hanging on a self-deadlock', async () => {
    const holder = await pool.connect();
    try {
      await expect(pool.query('SELECT 1')).rejects.toThrow(/Timed out after 300 ms waiting for the PGlite connection/);
    } finally {
      holder.release();
    }
    await expect(pool.query('SELECT 1 AS ok')).resolves.toMatchObject({ rows: [{ ok: 1 }] });
  });

  it('end() refuses queued and new connects and waits for lent clients', async () => {
    const { Pool } = createPgliteDriver(db);
    const other = new Pool();
    const holder = await other.connect();
    const queued = other.connect();
    let ended = false;
    const ending = other.end().then(() => (ended = true));
    await expect(queued).rejects.toThrow(/after calling end/);
    await expect(other.connect()).rejects.toThrow(/after calling end/);
    expect(ended).toBe(false);
    holder.release();
    await ending;
    expect(ended).toBe(true);
    // the PGlite instance itself is untouched by end()
    await expect(pool.query('SELECT 1 AS ok')).resolves.toMatchObject({ rows: [{ ok: 1 }] });
  });
});
