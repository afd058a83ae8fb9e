import { setFlagsFromString } from 'node:v8';
import { PGlite } from '@electric-sql/pglite';

/**
 * A commit is on the disk when PostgreSQL answers it, as with a server. PGlite's file system drops
 * fsync calls (Emscripten's fdatasync does nothing), but it passes O_DSYNC on to the file the WAL
 * is written through: with `wal_sync_method = open_datasync` every WAL write — a commit's included —
 * returns only once the host has it on the disk (about 0.5 ms a commit here; a batch of presses
 * shares one). The data files are made durable around checkpoints (checkpoints.ts).
 */
const DURABILITY = { fsync: 'on', wal_sync_method: 'open_datasync' } as const;

/**
 * PostgreSQL settings of the embedded database, on top of PGlite's own (single-user mode, no
 * parallel workers). PGlite keeps shared_buffers in its WebAssembly heap and PostgreSQL touches the
 * whole pool when it starts, so all of it is resident: initdb's 128 MB was the largest part of the
 * process's memory. 16 MB (2,048 pages) holds a pilot's working set (devices, open alarms, their
 * indexes); a page that is not cached is read from the operating system's file cache. wal_buffers
 * follows (1/32: 512 kB). maintenance_work_mem bounds an index build in a migration (64 MB by
 * default).
 */
export const PGLITE_SETTINGS: Readonly<Record<string, string>> = {
  shared_buffers: '16MB',
  maintenance_work_mem: '16MB',
  ...DURABILITY,
};

export const PGLITE_START_PARAMS: readonly string[] = [
  // PGlite starts with fsync off (`-F`): its WebAssembly file system has no fsync to call.
  ...PGlite.defaultStartParams.filter((param) => param !== '-F'),
  ...Object.entries(PGLITE_SETTINGS).flatMap(([name, value]) => ['-c', `${name}=${value}`]),
];

let baselineOnly = false;

/**
 * Compiles PostgreSQL's WebAssembly with V8's baseline compiler (Liftoff) only, for the rest of
 * the process. Tiering up to the optimising compiler holds about 80 MB more (its code and its
 * compilation), for PostgreSQL's own CPU work: sorting and aggregating large sets runs 1.5–2.5 ×
 * slower without it, while the platform's short statements, whose cost is the round trip, do not
 * change measurably. Process-wide: `npm start` calls it before the embedded database starts (a
 * process that only hosts PGlite among other work, a test run, keeps the optimising compiler).
 */
export function compileWasmForMemory(): void {
  if (baselineOnly) return;
  setFlagsFromString('--liftoff-only');
  baselineOnly = true;
}
