import { opendir, open } from 'node:fs/promises';
import { join } from 'node:path';
import { Logger } from '@nestjs/common';
import type { DataSource } from 'typeorm';

export interface CheckpointPolicy {
  /** How often the WAL is looked at. */
  readonly checkEveryMs: number;
  /** A checkpoint once this much WAL was written since the last one… */
  readonly walBytes: number;
  /** …or once the last one is this old and anything was written since. */
  readonly maxAgeMs: number;
}

export const CHECKPOINT_POLICY: CheckpointPolicy = { checkEveryMs: 60_000, walBytes: 64 * 1024 * 1024, maxAgeMs: 15 * 60_000 };

/** WAL a checkpoint itself writes: less than this since the last one means nothing else was written. */
const IDLE_WAL_BYTES = 16 * 1024;

/**
 * Checkpoints of the embedded database. PostgreSQL in single-user mode (PGlite) never starts one by
 * itself while it runs — only when it stops — so without them the WAL grows with every write until
 * a restart, and so does the time a restart takes to replay it. Each checkpoint is followed by a
 * sync of the whole data directory: PGlite's fsync calls reach no disk, so the pages a checkpoint
 * writes are on the disk only once this sync is done. (Until then a power cut may find the new
 * checkpoint record without its pages: the window is the sync's duration, milliseconds, every few
 * minutes at most. Commits themselves are on the disk when answered: settings.ts.)
 */
export class EmbeddedCheckpoints {
  private readonly logger = new Logger('EmbeddedDatabase');
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly ds: DataSource,
    private readonly dir: string,
    private readonly policy: CheckpointPolicy = CHECKPOINT_POLICY,
  ) {}

  start(): void {
    this.timer = setInterval(() => {
      this.running = this.checkpointIfDue().catch((err: unknown) => this.logger.error(`checkpoint failed: ${String(err)}`));
    }, this.policy.checkEveryMs);
    this.timer.unref();
  }

  /** Stops the timer and waits for a checkpoint under way. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  /** Runs a checkpoint, then syncs the data directory, when the policy says one is due. Resolves whether it did. */
  async checkpointIfDue(): Promise<boolean> {
    const [row] = (await this.ds.query(
      `SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), checkpoint_lsn)::float8 AS since_bytes,
              extract(epoch FROM now() - checkpoint_time)::float8 * 1000 AS age_ms
         FROM pg_control_checkpoint()`,
    )) as { since_bytes: number; age_ms: number }[];
    if (!row) return false;
    const due = row.since_bytes >= this.policy.walBytes || (row.age_ms >= this.policy.maxAgeMs && row.since_bytes > IDLE_WAL_BYTES);
    if (!due) return false;
    await this.ds.query('CHECKPOINT');
    await syncDirectory(this.dir);
    return true;
  }
}

/** Flushes every file and directory under `dir` to the disk (fsync each). */
export async function syncDirectory(dir: string): Promise<void> {
  const entries = await opendir(dir);
  for await (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) await syncDirectory(path);
    else if (entry.isFile()) await fsyncPath(path);
  }
  await fsyncPath(dir, true);
}

async function fsyncPath(path: string, directory = false): Promise<void> {
  let handle;
  try {
    handle = await open(path, 'r');
    await handle.sync();
  } catch (err) {
    // A file PostgreSQL removed meanwhile is not ours to sync; a directory cannot be synced on some systems.
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT' && !(directory && (code === 'EPERM' || code === 'EISDIR' || code === 'EINVAL'))) throw err;
  } finally {
    await handle?.close();
  }
}
