import { closeSync, createReadStream, existsSync, mkdirSync, openSync, readdirSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createGunzip } from 'node:zlib';

/**
 * An empty data directory made by PGlite's initdb and shut down cleanly (scripts/pglite-template.mjs).
 * A new database is a copy of it: initdb itself holds about 600 MB for its few seconds.
 */
export const DATA_DIR_TEMPLATE = fileURLToPath(new URL('../../assets/pglite-pgdata.tar.gz', import.meta.url));

const BLOCK = 512;
/** Present while a copy of the template is being written: an interrupted copy is started again. */
const SEEDING = '.seeding';

/** How openDatabase found the embedded database's directory (made and writable by then). */
export type DataDirState = 'database' | 'seeded' | 'no-template' | 'not-empty';

/**
 * Makes an empty directory a copy of the template, ready for PGlite to open. A directory that
 * already holds a database, or anything else, is left as it is ('database', 'not-empty': PGlite
 * decides); without the template PGlite runs initdb ('no-template').
 */
export async function prepareDataDir(dir: string, template = DATA_DIR_TEMPLATE): Promise<DataDirState> {
  const marker = join(dir, SEEDING);
  if (existsSync(join(dir, 'PG_VERSION'))) {
    rmSync(marker, { force: true }); // a copy interrupted after its last write
    return 'database';
  }
  const entries = readdirSync(dir);
  if (entries.length > 0 && !entries.includes(SEEDING)) return 'not-empty';
  if (!existsSync(template)) return 'no-template';
  emptyDataDir(dir);
  writeFileSync(marker, '');
  await copyTemplate(dir, template);
  rmSync(marker);
  return 'seeded';
}

/** Empties a directory that this process filled from the template. */
export function emptyDataDir(dir: string): void {
  for (const entry of readdirSync(dir)) rmSync(join(dir, entry), { recursive: true, force: true });
}

/**
 * Unpacks the gzipped tar (plain files and directories only) as a stream, PG_VERSION last: PGlite
 * takes a directory with a PG_VERSION for a database.
 */
async function copyTemplate(dir: string, template: string): Promise<void> {
  let fd: number | undefined; // of the file being written
  let remaining = 0; // bytes of the current file still to come
  let skip = 0; // padding to the next block
  let pgVersion: Buffer | undefined;
  let pending: Buffer = Buffer.alloc(0);
  let ended = false;

  const target = (name: string): string => {
    const relative = normalize(name.replace(/^(\.\/|\/)+/, ''));
    if (relative === '.' || relative === '') return dir;
    if (relative.startsWith('..') || relative.startsWith(sep)) throw new Error(`unexpected path in the template: ${name}`);
    return join(dir, relative);
  };

  try {
    for await (const chunk of createReadStream(template).pipe(createGunzip()) as AsyncIterable<Buffer>) {
      pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
      while (pending.length && !ended) {
        if (remaining > 0) {
          const part = pending.subarray(0, Math.min(remaining, pending.length));
          if (fd !== undefined) writeSync(fd, part);
          else pgVersion = Buffer.concat([pgVersion ?? Buffer.alloc(0), part]);
          remaining -= part.length;
          pending = pending.subarray(part.length);
          if (remaining === 0 && fd !== undefined) {
            closeSync(fd);
            fd = undefined;
          }
          continue;
        }
        if (skip > 0) {
          const n = Math.min(skip, pending.length);
          skip -= n;
          pending = pending.subarray(n);
          continue;
        }
        if (pending.length < BLOCK) break;
        const header = pending.subarray(0, BLOCK);
        pending = pending.subarray(BLOCK);
        if (header.every((b) => b === 0)) {
          ended = true; // end of archive
          break;
        }
        const { name, size, type } = parseHeader(header);
        const path = target(name);
        if (type === '5') {
          mkdirSync(path, { recursive: true, mode: 0o700 });
        } else if (type === '0' || type === '\0') {
          remaining = size;
          skip = (BLOCK - (size % BLOCK)) % BLOCK;
          if (path === join(dir, 'PG_VERSION')) {
            pgVersion = Buffer.alloc(0);
          } else {
            fd = openSync(path, 'w', 0o600);
            if (size === 0) {
              closeSync(fd);
              fd = undefined;
            }
          }
        } else {
          throw new Error(`unexpected entry type "${type}" in the template: ${name}`);
        }
      }
    }
    if (!ended || remaining > 0 || pgVersion === undefined) throw new Error('the template is truncated');
    writeFileSync(join(dir, 'PG_VERSION'), pgVersion, { mode: 0o600 });
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

function parseHeader(block: Buffer): { name: string; size: number; type: string } {
  const text = (start: number, length: number) => {
    const field = block.subarray(start, start + length);
    const end = field.indexOf(0);
    return field.subarray(0, end < 0 ? length : end).toString('utf8');
  };
  const expected = Number.parseInt(text(148, 8).trim(), 8);
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : block[i]!;
  if (sum !== expected) throw new Error('the template is damaged (tar header checksum)');
  const prefix = text(257, 6) === 'ustar' ? text(345, 155) : '';
  const name = text(0, 100);
  return {
    name: prefix ? `${prefix}/${name}` : name,
    size: Number.parseInt(text(124, 12).trim() || '0', 8),
    type: String.fromCharCode(block[156]!),
  };
}
