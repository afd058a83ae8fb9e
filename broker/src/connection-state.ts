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

/**
 * What happened to one device's connection since the last write: its last state, and when. A
 * change always names its connection by the time it was reported connected (`connectedAt`).
 */
export interface Change {
  connected: boolean;
  connectedAt: Date;
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
 *
 * A change applies only when its connection is the device's newest (`supersedes`, here in SQL:
 * its connected_at is not older than the row's). With brokers on several nodes a device may
 * connect to node B while node A still holds its previous connection: aedes makes A close it, and
 * A's "disconnected", arriving after B's "connected", would otherwise mark a connected device
 * disconnected. A change that does not apply still counts as written (it is not retried).
 */
const UPDATE_SQL = `
  UPDATE devices AS d
     SET connected = CASE WHEN x.newest THEN x.connected ELSE d.connected END,
         connected_at = CASE WHEN x.newest THEN x.connected_at ELSE d.connected_at END,
         disconnected_at = CASE WHEN x.newest THEN COALESCE(x.disconnected_at, d.disconnected_at) ELSE d.disconnected_at END,
         last_seen_at = GREATEST(d.last_seen_at, x.connected_at)
    FROM (SELECT l.id, u.connected, u.connected_at, u.disconnected_at,
                 (l.connected_at IS NULL OR u.connected_at >= l.connected_at) AS newest
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

  /** The connection reported connected at `connectedAt` has ended. */
  disconnected(deviceId: string, connectedAt: Date, at = new Date()): void {
    this.record(deviceId, { connected: false, connectedAt, disconnectedAt: at });
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

/**
 * Whether a change about the connection made at `changeConnectedAt` replaces what is recorded
 * about the one made at `recordedConnectedAt`: only a change about the same or a newer connection
 * does. (The times come from the nodes' clocks: a device moving between two nodes faster than
 * their clocks differ could be misjudged; NTP keeps that to milliseconds.)
 */
export function supersedes(recordedConnectedAt: Date | null, changeConnectedAt: Date): boolean {
  return recordedConnectedAt === null || changeConnectedAt.getTime() >= recordedConnectedAt.getTime();
}

/** Two changes of one device in order of arrival: the later one, unless it is about an older connection. */
export function merge(earlier: Change, later: Change): Change {
  if (!supersedes(earlier.connectedAt, later.connectedAt)) return earlier;
  return {
    connected: later.connected,
    connectedAt: later.connectedAt,
    disconnectedAt: later.disconnectedAt ?? earlier.disconnectedAt,
  };
}
