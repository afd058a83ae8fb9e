import { Inject, Injectable } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { preparedQuery, reservedConnections, type ConnectionSource } from '@amr/persistence';
import { DATA_SOURCE } from '@amr/runtime';

/** What the broker needs to authenticate a device. */
export interface StoredCredentials {
  id: string;
  secretHash: string;
  active: boolean;
  /** The fingerprint of the one client certificate that admits it (CONTRACT §1), or null. */
  certFingerprint: string | null;
}

interface Waiter {
  resolve: (found: StoredCredentials | undefined) => void;
  reject: (err: unknown) => void;
}

/** Lookups in flight at once; the ones arriving meanwhile wait and go together in the next query. */
const MAX_QUERIES_IN_FLIGHT = 2;
/** Ids in one query at the most. */
const MAX_IDS_PER_QUERY = 500;

/**
 * Device credentials as stored, read for the broker's `authenticate` hook. Lookups arriving in the
 * same turn of the event loop, or while earlier lookups are in flight, share one
 * `WHERE id = ANY($1)` query: a reconnect storm of a whole fleet costs a few dozen queries, not one
 * round trip per device.
 */
@Injectable()
export class DeviceCredentials {
  private readonly pending = new Map<string, Waiter[]>();
  private inFlight = 0;
  private scheduled = false;

  /** Connections of the CONNECTs' own: a reconnect storm is not queued behind presses and HTTP requests. */
  private readonly connections: ConnectionSource;

  constructor(@Inject(DATA_SOURCE) private readonly db: DataSource) {
    this.connections = reservedConnections(db, 'connects', MAX_QUERIES_IN_FLIGHT);
  }

  /** The device's stored credentials, or undefined when there is no such device. */
  find(id: string): Promise<StoredCredentials | undefined> {
    return new Promise((resolve, reject) => {
      const waiters = this.pending.get(id);
      if (waiters) waiters.push({ resolve, reject });
      else this.pending.set(id, [{ resolve, reject }]);
      this.schedule();
    });
  }

  /**
   * CONTRACT §1: replaces a version-1 hash by the digest once the secret was found good. Only if the
   * hash is still the one checked: a secret rotated in the meantime is never overwritten.
   */
  async upgrade(id: string, checkedHash: string, digest: string): Promise<void> {
    await this.db.query(`UPDATE devices SET secret_hash = $2 WHERE id = $1 AND secret_hash = $3`, [id, digest, checkedHash]);
  }

  private schedule(): void {
    if (this.scheduled || this.inFlight >= MAX_QUERIES_IN_FLIGHT) return;
    this.scheduled = true;
    // After the I/O of this turn: CONNECTs read together are looked up together.
    setImmediate(() => {
      this.scheduled = false;
      this.flush();
    });
  }

  private flush(): void {
    while (this.pending.size > 0 && this.inFlight < MAX_QUERIES_IN_FLIGHT) {
      const batch = new Map<string, Waiter[]>();
      for (const [id, waiters] of this.pending) {
        if (batch.size === MAX_IDS_PER_QUERY) break;
        batch.set(id, waiters);
        this.pending.delete(id);
      }
      this.inFlight += 1;
      this.query([...batch.keys()])
        .then(
          (rows) => {
            const byId = new Map(rows.map((row) => [row.id, row]));
            for (const [id, waiters] of batch) for (const w of waiters) w.resolve(byId.get(id));
          },
          (err: unknown) => {
            for (const waiters of batch.values()) for (const w of waiters) w.reject(err);
          },
        )
        .finally(() => {
          this.inFlight -= 1;
          if (this.pending.size > 0) this.schedule();
        });
    }
  }

  private async query(ids: string[]): Promise<StoredCredentials[]> {
    const rows = await preparedQuery(
      this.connections,
      'device-credentials',
      `SELECT id, secret_hash AS "secretHash", active, cert_fingerprint AS "certFingerprint" FROM devices WHERE id = ANY($1::text[])`,
      [ids],
    );
    return rows as unknown as StoredCredentials[];
  }
}
