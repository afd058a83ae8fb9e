import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { DataSource } from 'typeorm';
import { Device, closeDatabase, openDatabase, resetDatabase } from '@amr/persistence';
import { ConnectionState, merge, supersedes } from './connection-state.js';

type Params = [string[], boolean[], (Date | null)[], (Date | null)[]];

/** A database that records each statement's parameters; `hold()` keeps the next write in flight. */
class RecordingDb {
  readonly writes: Params[] = [];
  private held: { release: () => void; fail: (e: Error) => void } | undefined;
  private holdNext = false;

  hold(): void {
    this.holdNext = true;
  }

  release(): void {
    this.held?.release();
    this.held = undefined;
  }

  fail(message: string): void {
    this.held?.fail(new Error(message));
    this.held = undefined;
  }

  /** Ids whose rows are locked elsewhere: the statement skips them. */
  readonly locked = new Set<string>();

  query(_sql: string, params: Params): Promise<unknown> {
    this.writes.push(params);
    const returned = params[0].filter((id) => !this.locked.has(id)).map((id) => ({ id }));
    if (!this.holdNext) return Promise.resolve(returned);
    this.holdNext = false;
    return new Promise((resolve, reject) => {
      this.held = { release: () => resolve(returned), fail: reject };
    });
  }
}

async function until(condition: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

function writer(db: RecordingDb, delayMs = 2): ConnectionState {
  return new ConnectionState(db as unknown as DataSource, delayMs);
}

describe(ConnectionState.name, () => {
  it('writes a burst of connects and disconnects in one statement, keeping each device’s last state', async () => {
    const db = new RecordingDb();
    const states = writer(db);
    const t = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s));
    states.connected('btn-a', t(1));
    states.connected('btn-b', t(2));
    states.disconnected('btn-a', t(1), t(3));
    await until(() => db.writes.length === 1);
    await states.flush();
    expect(db.writes).toEqual([[['btn-a', 'btn-b'], [false, true], [t(1), t(2)], [t(3), null]]]);
  });

  it('collects what arrives during a write into the next one', async () => {
    const db = new RecordingDb();
    const states = writer(db);
    db.hold();
    const connectedAt = new Date();
    states.connected('btn-a', connectedAt);
    await until(() => db.writes.length === 1);
    for (const id of ['btn-b', 'btn-c', 'btn-d']) states.connected(id);
    states.disconnected('btn-a', connectedAt);
    db.release();
    await until(() => db.writes.length === 2);
    await states.flush();
    expect(db.writes.map(([ids, connected]) => [ids, connected])).toEqual([
      [['btn-a'], [true]],
      [['btn-b', 'btn-c', 'btn-d', 'btn-a'], [true, true, true, false]],
    ]);
  });

  it('keeps a failed write’s changes for the next write, behind newer ones', async () => {
    const db = new RecordingDb();
    const states = writer(db);
    db.hold();
    const connectedAt = new Date();
    states.connected('btn-a', connectedAt);
    states.connected('btn-b');
    await until(() => db.writes.length === 1);
    states.disconnected('btn-a', connectedAt);
    db.fail('connection reset');
    await states.flush();
    const [ids, connected, connectedAts] = db.writes[1]!;
    expect(ids).toEqual(['btn-a', 'btn-b']);
    expect(connected).toEqual([false, true]);
    expect(connectedAts[0]).toBe(connectedAt);
  });

  it('writes what is still collected on flush, without waiting for the delay', async () => {
    const db = new RecordingDb();
    const states = writer(db, 60_000);
    states.connected('btn-a');
    await states.flush();
    expect(db.writes.map(([ids]) => ids)).toEqual([['btn-a']]);
    await states.flush();
    expect(db.writes).toHaveLength(1);
  });

  it('writes the others at once and a device whose row is locked elsewhere later', async () => {
    const db = new RecordingDb();
    const states = writer(db, 1);
    db.locked.add('btn-busy');
    states.connected('btn-busy');
    states.connected('btn-free');
    await until(() => db.writes.length === 1);
    expect(db.writes[0]![0]).toEqual(['btn-busy', 'btn-free']);
    db.locked.clear();
    await until(() => db.writes.length === 2, 3000);
    expect(db.writes[1]![0]).toEqual(['btn-busy']);
  });

  describe('several nodes: only the newest connection of a device counts', () => {
    const t = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s));

    it('lets a change about the same or a newer connection replace what is recorded, not one about an older', () => {
      expect(supersedes(null, t(1))).toBe(true);
      expect(supersedes(t(1), t(1))).toBe(true);
      expect(supersedes(t(1), t(2))).toBe(true);
      expect(supersedes(t(2), t(1))).toBe(false);
    });

    it('keeps a newer connection when the end of an older one arrives after it', () => {
      const onB = { connected: true, connectedAt: t(2), disconnectedAt: null };
      const endOnA = { connected: false, connectedAt: t(1), disconnectedAt: t(3) };
      expect(merge(onB, endOnA)).toBe(onB);
      expect(merge(endOnA, onB)).toEqual({ connected: true, connectedAt: t(2), disconnectedAt: t(3) });
    });
  });

  describe('against the database', () => {
    let db: DataSource;
    beforeAll(async () => {
      db = await openDatabase({ url: process.env.TEST_DATABASE_URL || undefined, dataDir: 'memory://' });
      await resetDatabase(db);
    }, 120_000);
    afterAll(async () => {
      if (db) await closeDatabase(db);
    });

    it('sets connected, its timestamps, and never moves last_seen_at back', async () => {
      const repo = db.getRepository(Device);
      const later = new Date(Date.now() + 60_000);
      await repo.insert([
        { id: 'btn-state-a', secretHash: 'x' },
        { id: 'btn-state-b', secretHash: 'x', connected: true, lastSeenAt: later },
      ]);
      const states = new ConnectionState(db);
      const connectedAt = new Date(Date.now() - 1000);
      const disconnectedAt = new Date();
      states.connected('btn-state-a', connectedAt);
      states.connected('btn-state-b', connectedAt);
      states.disconnected('btn-state-b', connectedAt, disconnectedAt);
      states.connected('btn-unknown', connectedAt);
      await states.flush();
      const a = await repo.findOneByOrFail({ id: 'btn-state-a' });
      const b = await repo.findOneByOrFail({ id: 'btn-state-b' });
      expect(a).toMatchObject({ connected: true, connectedAt, lastSeenAt: connectedAt, disconnectedAt: null });
      expect(b).toMatchObject({ connected: false, connectedAt, disconnectedAt, lastSeenAt: later });
    });

    it('leaves a device connected on node B when node A reports the end of its older connection afterwards', async () => {
      const repo = db.getRepository(Device);
      await repo.insert([{ id: 'btn-moved', secretHash: 'x' }, { id: 'btn-moved-late', secretHash: 'x' }]);
      const nodeA = new ConnectionState(db);
      const nodeB = new ConnectionState(db);
      const onA = new Date(Date.now() - 2000);
      const onB = new Date(Date.now() - 1000);
      // B's connect written first, then A's disconnect.
      nodeA.connected('btn-moved', onA);
      await nodeA.flush();
      nodeB.connected('btn-moved', onB);
      await nodeB.flush();
      nodeA.disconnected('btn-moved', onA);
      await nodeA.flush();
      expect(await repo.findOneByOrFail({ id: 'btn-moved' })).toMatchObject({ connected: true, connectedAt: onB });
      // A's connect and disconnect collected together and written after B's connect.
      nodeB.connected('btn-moved-late', onB);
      await nodeB.flush();
      nodeA.connected('btn-moved-late', onA);
      nodeA.disconnected('btn-moved-late', onA);
      await nodeA.flush();
      expect(await repo.findOneByOrFail({ id: 'btn-moved-late' })).toMatchObject({ connected: true, connectedAt: onB });
      // B's own end of the connection is recorded.
      nodeB.disconnected('btn-moved', onB);
      await nodeB.flush();
      expect(await repo.findOneByOrFail({ id: 'btn-moved' })).toMatchObject({ connected: false, connectedAt: onB });
    });
  });
});
