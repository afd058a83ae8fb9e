import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { PGlite } from '@electric-sql/pglite';
import { DATA_DIR_TEMPLATE, prepareDataDir } from './data-dir.js';
import { PGLITE_START_PARAMS } from './settings.js';

describe(prepareDataDir.name, () => {
  let root: string;
  let n = 0;
  const freshDir = () => {
    const dir = join(root, `data-${++n}`);
    mkdirSync(dir);
    return dir;
  };

  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'amr-data-dir-'));
  });

  afterAll(() => {
    rmSync(root, { recursive: true, force: true });
  });

  it('makes an empty directory a database that this PGlite opens without initdb, with the embedded settings', async () => {
    const dir = freshDir();
    expect(await prepareDataDir(dir)).toBe('seeded');
    expect(readFileSync(join(dir, 'PG_VERSION'), 'utf8')).toBe('18\n');
    expect(readdirSync(dir)).not.toContain('.seeding');
    expect(statSync(join(dir, 'global', 'pg_control')).mode & 0o777).toBe(0o600);

    // PGlite resumes a directory with a PG_VERSION (no initdb): a template this PGlite cannot start
    // fails here (run scripts/pglite-template.mjs)
    const db = await PGlite.create(dir, { startParams: [...PGLITE_START_PARAMS] });
    try {
      const { rows } = await db.query<{ shared_buffers: string }>('SHOW shared_buffers');
      expect(rows).toEqual([{ shared_buffers: '16MB' }]);
      await db.exec('CREATE TABLE kept (v text); INSERT INTO kept VALUES ($$x$$)');
    } finally {
      await db.close();
    }
    expect(await prepareDataDir(dir)).toBe('database'); // the database is left alone
    const reopened = await PGlite.create(dir, { startParams: [...PGLITE_START_PARAMS] });
    try {
      expect((await reopened.query('SELECT v FROM kept')).rows).toEqual([{ v: 'x' }]);
    } finally {
      await reopened.close();
    }
  }, 60_000);

  it('copies again after an interrupted copy, and leaves a database whose copy ended after PG_VERSION', async () => {
    const interrupted = freshDir();
    writeFileSync(join(interrupted, '.seeding'), '');
    mkdirSync(join(interrupted, 'base'));
    writeFileSync(join(interrupted, 'base', 'half-written'), 'x');
    expect(await prepareDataDir(interrupted)).toBe('seeded');
    expect(existsSync(join(interrupted, 'base', 'half-written'))).toBe(false);
    expect(existsSync(join(interrupted, 'PG_VERSION'))).toBe(true);

    const finished = freshDir();
    writeFileSync(join(finished, '.seeding'), '');
    writeFileSync(join(finished, 'PG_VERSION'), '18\n');
    expect(await prepareDataDir(finished)).toBe('database');
    expect(readdirSync(finished)).toEqual(['PG_VERSION']);
  });

  it('leaves a directory holding something else, and reports a missing template', async () => {
    const other = freshDir();
    writeFileSync(join(other, 'notes.txt'), 'mine');
    expect(await prepareDataDir(other)).toBe('not-empty');
    expect(readdirSync(other)).toEqual(['notes.txt']);

    const empty = freshDir();
    expect(await prepareDataDir(empty, join(root, 'no-such-template.tar.gz'))).toBe('no-template');
    expect(readdirSync(empty)).toEqual([]);
  });

  it('never writes PG_VERSION from a truncated template, so the next start copies again', async () => {
    const tar = gunzipSync(readFileSync(DATA_DIR_TEMPLATE));
    const truncated = join(root, 'truncated.tar.gz');
    writeFileSync(truncated, gzipSync(tar.subarray(0, Math.floor(tar.length / 2))));
    const dir = freshDir();
    await expect(prepareDataDir(dir, truncated)).rejects.toThrow('the template is truncated');
    expect(existsSync(join(dir, 'PG_VERSION'))).toBe(false);
    expect(readdirSync(dir)).toContain('.seeding');
    expect(await prepareDataDir(dir)).toBe('seeded');
  });
});
