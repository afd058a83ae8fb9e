import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DataSource } from 'typeorm';
import { closeDatabase, openDatabase } from '../database.js';
import { EmbeddedCheckpoints } from './checkpoints.js';

const HOUR = 3_600_000;
const MiB = 1024 * 1024;

describe(EmbeddedCheckpoints.name, () => {
  let root: string;
  let db: DataSource;

  const checkpointLsn = async () => ((await db.query(`SELECT checkpoint_lsn::text AS lsn FROM pg_control_checkpoint()`)) as { lsn: string }[])[0]!.lsn;
  const write = (rows: number) => db.query(`CREATE TABLE IF NOT EXISTS filler (v text); INSERT INTO filler SELECT repeat('x', 1000) FROM generate_series(1, ${rows})`);

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'amr-checkpoints-'));
    db = await openDatabase({ dataDir: join(root, 'data') });
  }, 120_000);

  afterAll(async () => {
    if (db) await closeDatabase(db);
    rmSync(root, { recursive: true, force: true });
  });

  it('runs a file-backed embedded database with commits written through to the disk', async () => {
    const settings = (await db.query(`SELECT name, setting FROM pg_settings WHERE name IN ('fsync', 'wal_sync_method') ORDER BY name`)) as { name: string; setting: string }[];
    expect(settings).toEqual([
      { name: 'fsync', setting: 'on' },
      { name: 'wal_sync_method', setting: 'open_datasync' },
    ]);
  });

  it('checkpoints once enough WAL was written, and not again while nothing is', async () => {
    const checkpoints = new EmbeddedCheckpoints(db, join(root, 'data'), { checkEveryMs: HOUR, walBytes: 2 * MiB, maxAgeMs: HOUR });
    await checkpoints.checkpointIfDue(); // the migrations of a new database wrote a few MB
    expect(await checkpoints.checkpointIfDue()).toBe(false);
    const before = await checkpointLsn();

    await write(4_000); // about 4 MB of rows
    expect(await checkpoints.checkpointIfDue()).toBe(true);
    const after = await checkpointLsn();
    expect(after).not.toBe(before);
    expect(await checkpoints.checkpointIfDue()).toBe(false);
    expect(await checkpointLsn()).toBe(after);
  }, 60_000);

  it('checkpoints an old checkpoint once anything was written since, not an idle database', async () => {
    const checkpoints = new EmbeddedCheckpoints(db, join(root, 'data'), { checkEveryMs: HOUR, walBytes: 1024 * MiB, maxAgeMs: 0 });
    await checkpoints.checkpointIfDue(); // whatever the earlier tests left
    const idle = await checkpointLsn();
    expect(await checkpoints.checkpointIfDue()).toBe(false);
    expect(await checkpointLsn()).toBe(idle);

    await write(100);
    expect(await checkpoints.checkpointIfDue()).toBe(true);
    expect(await checkpointLsn()).not.toBe(idle);
  }, 60_000);

  it('keeps what was committed across a close and a reopen', async () => {
    const count = async () => Number(((await db.query(`SELECT count(*) AS n FROM filler`)) as { n: string }[])[0]!.n);
    const rows = await count();
    expect(rows).toBeGreaterThan(4_000);
    await closeDatabase(db);
    db = await openDatabase({ dataDir: join(root, 'data') });
    expect(await count()).toBe(rows);
  }, 120_000);
});
