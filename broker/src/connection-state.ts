import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { DATA_SOURCE, logSafe } from '@amr/runtime';

/** How long connects and disconnects are collected before they are written in one statement. */
export const CONNECTION_STATE_DELAY_MS = Symbol('ConnectionStateDelayMs');
const DEFAULT_DELAY_MS = 5;
/** After a failed write, the changes are kept and written again this much later. */
const RETRY_DELAY_MS = 1000;
/** A change skipped because its row stayed locked (or is gone) is tried this many times. */
const MAX_ATTEMPTS = 5;

/** What happened to one device's connection since the last write: its last state, and when. */
interface Change {
  connected: boolean;
  connectedAt: Date | null;
  disconnectedAt: Date | null;
  /** Writes that skipped it so far (its row was locked). */
  skipped?: number;
}

/**
 * The rows are locked in id order (the inner SELECT … ORDER BY … FOR UPDATE), as the alarm path
 * locks devices, so that this statement and a press transaction can never deadlock; rows locked
 * by another transaction are skipped (and written again later), so that one busy device never
 * holds up the state of the others, nor — through their row locks — their presses.
 * `last_seen_at` only moves forward (a heartbeat may have set a later one).
 */
const UPDATE_SQL = `
  UPDATE devices AS d
     SET connected = x.connected,
         connected_at = COALESCE(x.connected_at, d.connected_at),
         disconnected_at = COALESCE(x.disconnected_at, d.disconnected_at),
         last_seen_at = GREATEST(d.last_seen_at, x.connected_at)
    FROM (SELECT l.id, u.connected, u.connected_at, u.disconnected_at
            FROM devices AS l
            JOIN unnest($1::text[], $2::boolean[], $3::timestamptz[], $4::timestamptz[])
                 AS u(id, connected, connected_at, disconnected_at) ON u.id = l.id
           ORDER BY l.id
             FOR UPDATE OF l SKIP LOCKED) AS x
   WHERE d.id = x.id
  RETURNING d.id`;

/**
 * A device's connection state (`connected`, `connected_at`, `disconnected_at`), written behind:
 * changes are collected for a few milliseconds and written in one statement, keeping each device's
 * last state, so that a reconnect storm of 10,000 devices costs a few statements instead of 20,000.
 * One write is in flight at a time; what arrives meanwhile goes into the next. `flush()` writes
 * what is left (at shutdown).
 */
@Injectable()
export class ConnectionState {
  private readonly logger = new Logger('ConnectionState');
  private changes = new Map<string, Change>();
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> | undefined;
  private readonly delayMs: number;

  constructor(
    @Inject(DATA_SOURCE) private readonly db: DataSource,
    @Optional() @Inject(CONNECTION_STATE_DELAY_MS) delayMs?: number,
  ) {
    this.delayMs = delayMs ?? DEFAULT_DELAY_MS;
  }

  connected(deviceId: string, at = new Date()): void {
    this.record(deviceId, { connected: true, connectedAt: at, disconnectedAt: null });
  }

  disconnected(deviceId: string, at = new Date()): void {
    this.record(deviceId, { connected: false, connectedAt: null, disconnectedAt: at });
  }

  /** Writes every change recorded so far; resolves when they are written (or their write failed). */
  async flush(): Promise<void> {
    this.cancelTimer();
    if (this.writing) await this.writing;
    this.cancelTimer();
    if (this.changes.size > 0) await this.write();
    this.cancelTimer();
  }

  private record(deviceId: string, change: Change): void {
    const earlier = this.changes.get(deviceId);
    this.changes.set(deviceId, earlier ? merge(earlier, change) : change);
    this.schedule(this.delayMs);
  }

  private schedule(delayMs: number): void {
    if (this.timer || this.writing) return; // the write in flight schedules the next when it ends
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.write();
    }, delayMs);
    this.timer.unref();
  }

  private cancelTimer(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private write(): Promise<void> {
    const batch = this.changes;
    this.changes = new Map();
    const ids = [...batch.keys()];
    const rows = [...batch.values()];
    let retryMs = this.delayMs;
    this.writing = this.db
      .query(UPDATE_SQL, [ids, rows.map((c) => c.connected), rows.map((c) => c.connectedAt), rows.map((c) => c.disconnectedAt)])
      .then(
        (result: unknown) => {
          // pg answers an UPDATE … RETURNING as [rows, count], the embedded driver as rows
          const returned = (Array.isArray(result) && Array.isArray(result[0]) ? result[0] : result) as { id: string }[];
          const written = new Set(returned.map((r) => r.id));
          for (const [id, change] of batch) {
            if (written.has(id) || this.changes.has(id)) continue; // written, or superseded meanwhile
            const skipped = (change.skipped ?? 0) + 1;
            if (skipped < MAX_ATTEMPTS) this.changes.set(id, { ...change, skipped });
            retryMs = RETRY_DELAY_MS;
          }
        },
        (err: unknown) => {
          this.logger.error(`connection state of ${batch.size} device(s) not saved, retrying: ${logSafe(err)}`);
          // Kept for the next write, behind anything newer that arrived meanwhile.
          for (const [id, change] of batch) {
            const newer = this.changes.get(id);
            this.changes.set(id, newer ? merge(change, newer) : change);
          }
          retryMs = RETRY_DELAY_MS;
        },
      )
      .finally(() => {
        this.writing = undefined;
        if (this.changes.size > 0) this.schedule(retryMs);
      });
    return this.writing;
  }
}

/** Two changes of one device in order: the state of the later, the latest time of each kind. */
function merge(earlier: Change, later: Change): Change {
  return {
    connected: later.connected,
    connectedAt: later.connectedAt ?? earlier.connectedAt,
    disconnectedAt: later.disconnectedAt ?? earlier.disconnectedAt,
  };
}
