import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { closeDatabase, DatabaseUnavailableError, openDatabase } from './database.js';
import { MIGRATIONS } from './schema.js';
import { ProtectionCase } from './entities/index.js';

/**
 * The embedded database on disk (what `npm start` uses without DATABASE_URL). This file starts
 * PGlite three times on purpose: two instances side by side, then a reopen of the same directory.
 */
describe('openDatabase with PGlite in a data directory', () => {
  let root: string;

  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'amr-persistence-'));
  });

  afterAll(() => {
    rmSync(root, { recursive: true, force: true });
  });

  it('keeps data across a reopen, next to an independent second instance in the same process', async () => {
    const dir = join(root, 'nested', 'data'); // created if missing
    const [onDisk, inMemory] = await Promise.all([
      openDatabase({ dataDir: dir }),
      openDatabase({ dataDir: 'memory://' }),
    ]);
    try {
      await onDisk.getRepository(ProtectionCase).save({ homeCicId: 'cic-limburg', reference: 'kept' });
      expect(await inMemory.getRepository(ProtectionCase).countBy({ reference: 'kept' })).toBe(0);
      await expect(openDatabase({ dataDir: dir })).rejects.toThrow(
        new DatabaseUnavailableError(
          `Cannot open the embedded database at ${dir}: it is already open in this process; close it first or use another directory`,
        ),
      );
    } finally {
      await Promise.all([closeDatabase(onDisk), closeDatabase(inMemory)]);
    }

    const reopened = await openDatabase({ dataDir: dir });
    try {
      expect(await reopened.getRepository(ProtectionCase).countBy({ reference: 'kept' })).toBe(1);
      expect(await reopened.query(`SELECT count(*) AS n FROM migrations`)).toEqual([{ n: MIGRATIONS.length }]); // not re-run
    } finally {
      await closeDatabase(reopened);
    }
  }, 180_000); // three PGlite starts: tens of seconds on a loaded 2-core machine

  it('throws DatabaseUnavailableError when the data directory cannot be created', async () => {
    const file = join(root, 'a-file');
    writeFileSync(file, 'not a directory');
    const error = await openDatabase({ dataDir: join(file, 'data') }).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(DatabaseUnavailableError);
    expect((error as Error).message).toBe(
      `Cannot create the embedded database directory ${join(file, 'data')} (ENOTDIR: not a directory, mkdir '${join(file, 'data')}'): choose a writable directory or set DATABASE_URL to use PostgreSQL`,
    );
  });

  it('throws DatabaseUnavailableError when the directory holds something PGlite cannot open', async () => {
    const dir = join(root, 'garbage');
    mkdirSync(dir);
    writeFileSync(join(dir, 'PG_VERSION'), '99\n'); // a data directory of some other PostgreSQL
    const error = await openDatabase({ dataDir: dir }).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(DatabaseUnavailableError);
    expect((error as Error).message).toMatch(/^Cannot open the embedded database at .*garbage \(.+\): check that it is/);
    expect((error as Error).message).not.toContain('\n');
  }, 30_000);
});
