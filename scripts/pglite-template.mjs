#!/usr/bin/env node
// Writes libs/persistence/assets/pglite-pgdata.tar.gz: an empty PGlite data directory, initialised
// by PGlite's own initdb and shut down cleanly. The embedded database starts from a copy of it
// instead of running initdb, which holds about 600 MB more for its few seconds. Run it again after
// upgrading @electric-sql/pglite (the embedded-database spec fails while the two do not match):
//
//   node scripts/pglite-template.mjs        (needs GNU tar)
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';

const target = fileURLToPath(new URL('../libs/persistence/assets/pglite-pgdata.tar.gz', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'amr-pglite-template-'));
const dataDir = join(work, 'pgdata');
try {
  const db = await PGlite.create(dataDir);
  const { rows } = await db.query('SHOW server_version');
  await db.close(); // a clean shut-down: the copy starts without crash recovery
  // plain ustar, files and directories only, in a stable order with fixed owners and times
  execFileSync('tar', [
    '--create', '--gzip', '--format=ustar', '--sort=name', '--owner=0', '--group=0', '--numeric-owner',
    '--mtime=2000-01-01 00:00Z', '--file', target, '--directory', dataDir, '.',
  ]);
  console.log(`${target}: ${statSync(target).size} bytes, PostgreSQL ${rows[0].server_version}`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
