import type { Redis } from 'ioredis';

/** What the broker's Redis connections report about an outage, once per outage. */
export interface OutageLog {
  lost(reason: string): void;
  restored(downForMs: number): void;
}

/**
 * Whether Redis is reachable, as far as the node's connections tell. An outage starts when one of
 * them stops being ready (or a command times out on a connection still believed ready: a network
 * that drops packets instead of refusing them) and ends when all are ready again; each outage is
 * logged once when it starts and once when it ends, however many messages go through meanwhile.
 */
export class RedisOutage {
  private since: number | undefined;
  private closing = false;

  constructor(
    private readonly connections: readonly Redis[],
    private readonly log: OutageLog,
  ) {
    for (const conn of connections) {
      // ioredis reports every failed reconnection as an 'error': the outage is logged once instead.
      conn.on('error', (err: Error) => this.down(reasonOf(err)));
      // (Only an unexpected loss reconnects: QUIT and disconnect() at shutdown do not.)
      conn.on('reconnecting', () => this.down('connection lost'));
      conn.on('ready', () => this.check());
    }
  }

  /** True while an outage is under way. */
  get ongoing(): boolean {
    return this.since !== undefined;
  }

  /** True when `err`, from a command on `conn`, means Redis could not be reached. */
  isOutage(conn: Redis, err: unknown): boolean {
    if (conn.status !== 'ready') return true;
    return /timed out|Connection is closed|Stream isn't writeable|MaxRetriesPerRequest|ECONNRESET|EPIPE/i.test(reasonOf(err));
  }

  /** Marks the start of an outage (a no-op while one is already under way, or at shutdown). */
  down(reason: string): void {
    if (this.closing || this.since !== undefined) return;
    this.since = Date.now();
    this.log.lost(reason);
  }

  /** At shutdown: closed connections are not an outage. */
  close(): void {
    this.closing = true;
  }

  private check(): void {
    if (this.since === undefined || this.closing) return;
    if (!this.connections.every((c) => c.status === 'ready')) return;
    const downForMs = Date.now() - this.since;
    this.since = undefined;
    this.log.restored(downForMs);
  }
}

/** An error's code or message. (Duck-typed: errors may come from another realm, e.g. under Jest.) */
export function reasonOf(err: unknown): string {
  if (typeof err !== 'object' || err === null) return String(err);
  const { code, message } = err as { code?: unknown; message?: unknown };
  if (typeof code === 'string' && typeof message === 'string' && !message.includes(code)) return `${code}: ${message}`;
  return typeof message === 'string' ? message : typeof code === 'string' ? code : String(err);
}
