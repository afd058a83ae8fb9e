import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import type { DataSource } from 'typeorm';
import { closeDatabase, openDatabase } from '@amr/persistence';
import { Metrics } from '@amr/runtime';
import { AuditTrail } from './audit-trail.js';
import type { AuditRecord } from './audit-chain.js';

const ALARM = '5f0c1d7e-8a43-4b7e-9f57-0e4b7b1f2a10';

const record = (over: Partial<AuditRecord> = {}): AuditRecord => ({
  at: new Date(),
  principal: 'admin',
  cicId: null,
  method: 'GET',
  route: '/api/v1/alarms/:id',
  action: 'alarms.get',
  targets: [ALARM],
  status: 200,
  details: {},
  ...over,
});

describe(AuditTrail.name, () => {
  let db: DataSource;
  let metrics: Metrics;
  let trail: AuditTrail;
  /** Transactions begun on the database, as the trail's batches show in it. */
  let transactions = 0;

  beforeAll(async () => {
    db = await openDatabase({ dataDir: 'memory://' });
    const createQueryRunner = db.createQueryRunner.bind(db);
    db.createQueryRunner = (...args) => {
      const runner = createQueryRunner(...args);
      const connect = runner.connect.bind(runner);
      runner.connect = async () => {
        const client = (await connect()) as { query: (...args: unknown[]) => Promise<unknown> };
        const query = client.query.bind(client);
        return Object.assign(Object.create(client) as object, {
          query: (...args: unknown[]) => {
            if (typeof args[0] === 'string' && args[0].startsWith('BEGIN')) transactions++;
            return query(...args);
          },
        });
      };
      return runner;
    };
  }, 60_000);

  afterAll(async () => {
    await closeDatabase(db);
  });

  beforeEach(async () => {
    await db.query('TRUNCATE audit_entries RESTART IDENTITY');
    metrics = new Metrics();
    trail = new AuditTrail(db, metrics);
    transactions = 0;
  });

  const count = async () => Number(((await db.query('SELECT count(*) AS n FROM audit_entries')) as [{ n: string }])[0].n);

  it('stores records arriving together in shared transactions, as one chain that verifies', async () => {
    await Promise.all(Array.from({ length: 50 }, (_, i) => trail.record(record({ status: 200 + (i % 3) }))));
    // The first is written at once, the 49 that arrived meanwhile together.
    expect(transactions).toBeLessThanOrEqual(2);
    await trail.record(record({ method: 'POST', action: 'alarms.accept' }));
    expect(await count()).toBe(51);
    expect(await trail.verify()).toMatchObject({ valid: true, entries: 51, head: { id: 51 } });
  });

  it('refuses UPDATE and DELETE, whoever asks; the chain still finds an entry changed behind the trigger', async () => {
    await trail.record(record());
    await trail.record(record({ status: 404 }));
    await expect(db.query(`UPDATE audit_entries SET status = 200 WHERE id = 2`)).rejects.toThrow(/append-only/);
    await expect(db.query(`DELETE FROM audit_entries WHERE id = 1`)).rejects.toThrow(/append-only/);
    expect(await count()).toBe(2);

    // Someone who owns the table can lift the trigger: verification is what shows it.
    await db.query('ALTER TABLE audit_entries DISABLE TRIGGER audit_entries_append_only');
    try {
      await db.query(`UPDATE audit_entries SET status = 200 WHERE id = 2`);
    } finally {
      await db.query('ALTER TABLE audit_entries ENABLE TRIGGER audit_entries_append_only');
    }
    expect(await trail.verify()).toMatchObject({ valid: false, firstInvalid: { id: 2, reason: expect.stringMatching(/altered/) } });
    expect((await trail.forTarget(ALARM)).verification).toMatchObject({ valid: false, firstInvalid: { id: 2 } });
  });

  it('gives the entries naming a target, each verified against its place in the chain', async () => {
    await trail.record(record());
    await trail.record(record({ targets: ['other'] }));
    await trail.record(record({ method: 'POST', action: 'alarms.close', targets: [ALARM, 'case-1'] }));
    const audit = await trail.forTarget(ALARM);
    expect(audit.entries.map((e) => [e.id, e.action])).toEqual([[1, 'alarms.get'], [3, 'alarms.close']]);
    expect(audit).toMatchObject({ complete: true, verification: { valid: true, entries: 2 } });
  });

  it('filters by principal, target, action and time, newest first, in pages', async () => {
    const t0 = Date.now();
    await trail.record(record({ at: new Date(t0 - 60_000), principal: 'integration:a', cicId: 'cic-namur' }));
    await trail.record(record({ at: new Date(t0), method: 'POST', action: 'alarms.accept', principal: 'integration:a', cicId: 'cic-namur' }));
    await trail.record(record({ at: new Date(t0), targets: ['other'] }));
    expect((await trail.list({ principal: 'integration:a', limit: 10, offset: 0 })).map((e) => e.id)).toEqual([2, 1]);
    expect((await trail.list({ cicId: 'cic-namur', action: 'alarms.accept', limit: 10, offset: 0 })).map((e) => e.id)).toEqual([2]);
    expect((await trail.list({ target: ALARM, from: new Date(t0 - 1000), limit: 10, offset: 0 })).map((e) => e.id)).toEqual([2]);
    expect((await trail.list({ to: new Date(t0 - 1000), limit: 10, offset: 0 })).map((e) => e.id)).toEqual([1]);
    expect((await trail.list({ limit: 1, offset: 1 })).map((e) => e.id)).toEqual([2]);
  });

  it('does not lose a record it cannot store: it is logged whole and counted, and the others are stored', async () => {
    const broken = record({ status: Number.NaN, action: 'devices.deactivate' }); // NOT NULL status refuses it
    await Promise.all([trail.record(record()), trail.record(broken), trail.record(record())]);
    expect(await count()).toBe(2);
    expect(await metrics.total('amr_audit_write_failures_total')).toBe(1);
    expect((await trail.verify()).valid).toBe(true);
  });
});
