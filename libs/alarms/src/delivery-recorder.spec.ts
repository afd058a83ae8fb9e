import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import type { DataSource } from 'typeorm';
import { AlarmEvent, closeDatabase, openDatabase } from '@amr/persistence';
import { loadConfig } from '@amr/config';
import { DeliveryRecorder } from './delivery-recorder.js';
import { chainEntries, verifyChain } from './timeline.js';

const config = loadConfig({});
const CASE = '00000000-0000-4000-8000-0000000000ca';
const INTEGRATION = '00000000-0000-4000-8000-0000000000a1';

describe(DeliveryRecorder.name, () => {
  let db: DataSource;
  let recorder: DeliveryRecorder;
  /** Transactions begun on the database, as the recorder's batches show in it. */
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
    await db.query(`INSERT INTO cics (id, name) VALUES ('cic-a', 'A')`);
    await db.query(`INSERT INTO integrations (id, cic_id, name, token_hash) VALUES ($1, 'cic-a', 'console', 'h')`, [INTEGRATION]);
    await db.query(`INSERT INTO cases (id, home_cic_id) VALUES ($1, 'cic-a')`, [CASE]);
    recorder = new DeliveryRecorder(db, config);
  }, 60_000);

  afterAll(async () => {
    await closeDatabase(db);
  });

  beforeEach(async () => {
    await db.query(`DELETE FROM case_reads`);
    await db.query(`DELETE FROM alarm_events`);
    await db.query(`DELETE FROM alarms`);
    await db.query(`DELETE FROM devices`);
    transactions = 0;
  });

  /** An open alarm with its first timeline entry, as the press store leaves it. */
  async function alarm(n: number, kind: 'panic' | 'test' = 'panic', stage = 'received'): Promise<string> {
    const deviceId = `dev-${n}`;
    await db.query(`INSERT INTO devices (id, case_id, secret_hash) VALUES ($1, $2, 'h')`, [deviceId, CASE]);
    const [{ id }] = (await db.query(
      `INSERT INTO alarms (device_id, case_id, cic_id, kind, stage, first_seq, last_seq) VALUES ($1, $2, 'cic-a', $3, $4, 1, 1) RETURNING id`,
      [deviceId, CASE, kind, stage],
    )) as [{ id: string }];
    const [entry] = chainEntries(id, null, [{ type: 'received', data: { seq: 1 } }], new Date());
    await db.query(`INSERT INTO alarm_events (alarm_id, at, type, data, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6)`, [
      id, entry!.at, entry!.type, entry!.data, entry!.prevHash, entry!.hash,
    ]);
    return id;
  }

  const confirmed = (alarmId: string) => ({ alarmId, channel: 'confirmation' as const, integrationId: INTEGRATION });
  const read = (alarmId: string) => ({ caseId: CASE, integrationId: INTEGRATION, alarmId, via: 'sse' as const });

  it('records the deliveries and case reads arriving together in one transaction, each delivery once', async () => {
    const ids = await Promise.all([1, 2, 3].map((n) => alarm(n)));
    const before = Date.now();

    const results = await Promise.all([
      ...ids.map((id) => recorder.caseRead(read(id))),
      ...ids.map((id) => recorder.delivery(confirmed(id))),
      recorder.delivery(confirmed(ids[0]!)),
    ]);

    expect(transactions).toBe(1);
    expect(results.slice(3, 6)).toEqual(ids.map((id) => ({ id, kind: 'panic' })));
    expect(results[6]).toBeNull(); // the same alarm again in the batch: only the first records it
    const reads = (await db.query(`SELECT alarm_id, via FROM case_reads ORDER BY id`)) as { alarm_id: string; via: string }[];
    expect(reads).toEqual(ids.map((id) => ({ alarm_id: id, via: 'sse' })));

    for (const id of ids) {
      const [row] = (await db.query(`SELECT delivered_at, next_escalation_at FROM alarms WHERE id = $1`, [id])) as { delivered_at: Date; next_escalation_at: Date }[];
      expect(row!.delivered_at.getTime()).toBeGreaterThanOrEqual(before);
      expect(row!.next_escalation_at.getTime() - row!.delivered_at.getTime()).toBe(config.alarms.acceptTimeoutS * 1000);
      const events = await db.getRepository(AlarmEvent).find({ where: { alarmId: id }, order: { id: 'ASC' } });
      expect(events.map((e) => e.type)).toEqual(['received', 'delivered']);
      expect(events[1]!.data).toEqual({ via: 'confirmation', integrationId: INTEGRATION, cicId: 'cic-a' });
      expect(verifyChain(events).valid).toBe(true);
    }
  });

  it('does not record a delivery twice, nor one of a closed alarm; a test alarm has no accept deadline', async () => {
    const delivered = await alarm(1);
    const closed = await alarm(2, 'panic', 'closed');
    const test = await alarm(3, 'test');
    await recorder.delivery(confirmed(delivered));

    const results = await Promise.all([recorder.delivery(confirmed(delivered)), recorder.delivery(confirmed(closed)), recorder.delivery(confirmed(test))]);

    expect(results).toEqual([null, null, { id: test, kind: 'test' }]);
    const [row] = (await db.query(`SELECT delivered_at, next_escalation_at FROM alarms WHERE id = $1`, [test])) as { delivered_at: Date | null; next_escalation_at: Date | null }[];
    expect(row!.delivered_at).not.toBeNull();
    expect(row!.next_escalation_at).toBeNull();
    const [{ n }] = (await db.query(`SELECT count(*)::int AS n FROM alarm_events WHERE alarm_id = $1 AND type = 'delivered'`, [delivered])) as [{ n: number }];
    expect(n).toBe(1);
  });

  it('retries a failed batch item by item, so one bad item does not sink the others', async () => {
    const id = await alarm(1);
    const unknownCase = { caseId: '00000000-0000-4000-8000-00000000dead', integrationId: INTEGRATION, alarmId: id, via: 'sse' as const };

    const [, , delivered] = await Promise.all([recorder.caseRead(unknownCase), recorder.caseRead(read(id)), recorder.delivery(confirmed(id))]);

    expect(delivered).toEqual({ id, kind: 'panic' });
    const reads = (await db.query(`SELECT case_id FROM case_reads`)) as { case_id: string }[];
    expect(reads).toEqual([{ case_id: CASE }]);
    const events = await db.getRepository(AlarmEvent).find({ where: { alarmId: id }, order: { id: 'ASC' } });
    expect(verifyChain(events)).toMatchObject({ valid: true, entries: 2 });
  });
});
