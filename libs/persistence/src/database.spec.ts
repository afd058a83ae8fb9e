import { Socket } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it, jest } from '@jest/globals';
import pg from 'pg';
import { QueryFailedError, type DataSource } from 'typeorm';
import { BELGIAN_CICS } from './belgian-cics.js';
import { closeDatabase, DatabaseUnavailableError, openDatabase, reservedConnections, resetDatabase } from './database.js';
import { inTransaction, stepTimer } from './group-commit.js';
import { MIGRATIONS } from './schema.js';
import {
  Alarm,
  AlarmEvent,
  AlarmPosition,
  AlarmPress,
  Cic,
  Device,
  DeviceCommand,
  Integration,
  ProtectionCase,
  TechnicalAlert,
} from './entities/index.js';

/**
 * Runs against the embedded PGlite always, and against PostgreSQL too when TEST_DATABASE_URL
 * is set: there in a throw-away database created for this file and dropped afterwards.
 */
const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL;
const SPEC_DATABASE = 'amr_persistence_spec';

const TABLES = [
  'alarm_events',
  'alarm_positions',
  'alarm_presses',
  'alarms',
  'alerts',
  'audit_entries',
  'case_reads',
  'cases',
  'cics',
  'device_commands',
  'device_events',
  'device_status_reports',
  'devices',
  'integrations',
  'migrations',
  'platform_events',
  'platform_nodes',
  'sms_outbox',
  'webhook_deliveries',
];
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

async function adminQuery(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

function specDatabaseUrl(): string {
  const url = new URL(TEST_DATABASE_URL!);
  url.pathname = `/${SPEC_DATABASE}`;
  return url.toString();
}

interface Engine {
  name: string;
  open(): Promise<DataSource>;
  cleanUp(): Promise<void>;
}

const engines: Engine[] = [
  { name: 'PGlite (memory://)', open: () => openDatabase({ dataDir: 'memory://' }), cleanUp: async () => undefined },
];
if (TEST_DATABASE_URL) {
  engines.push({
    name: 'PostgreSQL',
    open: async () => {
      await adminQuery(`DROP DATABASE IF EXISTS ${SPEC_DATABASE} WITH (FORCE)`);
      await adminQuery(`CREATE DATABASE ${SPEC_DATABASE}`);
      return openDatabase({ url: specDatabaseUrl(), dataDir: 'unused' });
    },
    cleanUp: () => adminQuery(`DROP DATABASE IF EXISTS ${SPEC_DATABASE} WITH (FORCE)`),
  });
}

async function tableNames(ds: DataSource): Promise<string[]> {
  const rows: Array<{ tablename: string }> = await ds.query(
    `SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename`,
  );
  return rows.map((r) => r.tablename);
}

describe.each(engines)('openDatabase on $name', (engine) => {
  let ds: DataSource;

  beforeAll(async () => {
    ds = await engine.open();
  }, 60_000);

  afterAll(async () => {
    if (ds) await closeDatabase(ds);
    await engine.cleanUp();
  }, 30_000);

  beforeEach(() => resetDatabase(ds));

  async function newDevice(id = 'dev-1'): Promise<{ caseId: string; deviceId: string }> {
    const { id: caseId } = await ds.getRepository(ProtectionCase).save({ homeCicId: 'cic-antwerpen', riskLevel: 'high' });
    await ds.getRepository(Device).save({ id, caseId, secretHash: 'h' });
    return { caseId, deviceId: id };
  }

  function openAlarm(deviceId: string, caseId: string | null, seq = 1) {
    return { deviceId, caseId, cicId: 'cic-antwerpen', kind: 'panic' as const, firstSeq: seq, lastSeq: seq };
  }

  it('migrates up: creates every table and seeds the eleven Belgian CICs', async () => {
    expect(await tableNames(ds)).toEqual(TABLES);
    const cics = await ds.getRepository(Cic).find({ order: { id: 'ASC' } });
    expect(cics.map(({ id, name }) => ({ id, name }))).toEqual(
      [...BELGIAN_CICS].sort((a, b) => a.id.localeCompare(b.id)),
    );
    expect(cics.every((c) => c.createdAt instanceof Date)).toBe(true);
    expect(await ds.showMigrations()).toBe(false); // nothing pending
  });

  it('has a schema that matches the entities exactly (TypeORM would change nothing)', async () => {
    const diff = await ds.driver.createSchemaBuilder().log();
    expect(diff.upQueries.map((q) => q.query)).toEqual([]);
  });

  it('migrates down, then up again', async () => {
    for (let i = 0; i < MIGRATIONS.length; i++) await ds.undoLastMigration({ transaction: 'all' });
    expect(await tableNames(ds)).toEqual(['migrations']);
    await ds.runMigrations({ transaction: 'all' });
    expect(await tableNames(ds)).toEqual(TABLES);
    expect(await ds.getRepository(Cic).count()).toBe(11);
  });

  it('round-trips uuid, jsonb, text[], bigint (as numbers past 2^31) and timestamptz', async () => {
    const perpetrator = { name: 'J. Doe', vehicle: 'grey van 1-ABC-123', weaponsKnown: true, aliases: ['JD'] };
    const saved = await ds.getRepository(ProtectionCase).save({
      homeCicId: 'cic-liege',
      reference: 'PV 2026/123',
      riskLevel: 'critical',
      responderNotes: 'Approach from the back door.',
      perpetrator,
    });
    expect(saved.id).toMatch(UUID);
    expect(saved.createdAt).toBeInstanceOf(Date);

    const lastSeenAt = new Date('2026-11-22T08:15:30.123Z');
    await ds.getRepository(Device).save({
      id: 'dev-rt',
      caseId: saved.id,
      secretHash: 'scrypt$…',
      lastSeenAt,
      battery: 87,
      rsrp: -97.5,
      lastPosition: { lat: 50.8503, lon: 4.3517, acc: 12, ts: 1_795_400_000, src: 'gnss' },
      lastAlarmSeq: 2 ** 40 + 1,
    });
    const device = await ds.getRepository(Device).findOneByOrFail({ id: 'dev-rt' });
    expect(device).toMatchObject({
      caseId: saved.id,
      active: true,
      encoding: 'cbor',
      heartbeatS: 3600,
      graceS: 600,
      connected: false,
      lastSeenAt,
      battery: 87,
      rsrp: -97.5,
      lastPosition: { lat: 50.8503, lon: 4.3517, acc: 12, ts: 1_795_400_000, src: 'gnss' },
      lastAlarmSeq: 2 ** 40 + 1,
      deactivatedAt: null,
    });

    const flags = ['low-battery', 'with space', 'quo"te', 'back\\slash', 'comma,brace}'];
    const alarm = await ds.getRepository(Alarm).save({
      ...openAlarm('dev-rt', saved.id, 2 ** 31 + 5),
      lastSeq: Number.MAX_SAFE_INTEGER,
      flags,
    });
    expect(alarm.id).toMatch(UUID);
    const loaded = await ds.getRepository(Alarm).findOneByOrFail({ id: alarm.id });
    expect(loaded).toMatchObject({
      stage: 'received',
      pressCount: 1,
      firstSeq: 2 ** 31 + 5,
      lastSeq: Number.MAX_SAFE_INTEGER,
      flags,
      closedAt: null,
      outcome: null,
    });
    expect(typeof loaded.firstSeq).toBe('number');
    expect(loaded.receivedAt).toBeInstanceOf(Date);
    expect(loaded.updatedAt).toBeInstanceOf(Date);

    const loadedCase = await ds.getRepository(ProtectionCase).findOneByOrFail({ id: saved.id });
    expect(loadedCase.perpetrator).toEqual(perpetrator);
    expect(loadedCase.createdAt.getTime()).toBe(saved.createdAt.getTime());
  });

  it('returns generated bigserial ids as numbers, also straight after an insert', async () => {
    const { caseId, deviceId } = await newDevice();
    const alarm = await ds.getRepository(Alarm).save(openAlarm(deviceId, caseId));

    const press = await ds.getRepository(AlarmPress).save({
      alarmId: alarm.id,
      deviceId,
      seq: 3_000_000_000,
      deviceTs: 1_795_400_000,
      message: { t: 'alarm', seq: 3_000_000_000 },
    });
    const position = await ds.getRepository(AlarmPosition).save({ alarmId: alarm.id, lat: 51.2194, lon: 4.4025, ts: null });
    const event = await ds.getRepository(AlarmEvent).save({ alarmId: alarm.id, type: 'received' });
    expect([press.id, position.id, event.id]).toEqual([1, 1, 1]);
    expect(event.at).toBeInstanceOf(Date);
    expect(event.data).toEqual({});

    const reloaded = await ds.getRepository(AlarmPress).findOneByOrFail({ id: press.id });
    expect(reloaded).toMatchObject({ id: 1, seq: 3_000_000_000, deviceTs: 1_795_400_000, message: { t: 'alarm' } });
    const [{ n }] = await ds.query(`SELECT count(*) AS n FROM alarm_events`);
    expect(n).toBe(1); // count(*) is int8: a number too
  });

  it('refuses a second open alarm for the same device (partial unique index), allows one after closing', async () => {
    const { caseId, deviceId } = await newDevice();
    const first = await ds.getRepository(Alarm).save(openAlarm(deviceId, caseId, 1));

    const second = ds.getRepository(Alarm).insert(openAlarm(deviceId, caseId, 2));
    await expect(second).rejects.toBeInstanceOf(QueryFailedError);
    await expect(second).rejects.toMatchObject({
      driverError: { code: '23505', constraint: 'alarms_one_open_per_device' },
    });

    await ds.getRepository(Alarm).update(first.id, { stage: 'closed', closedAt: new Date(), outcome: 'false alarm' });
    await expect(ds.getRepository(Alarm).insert(openAlarm(deviceId, caseId, 3))).resolves.toBeDefined();
    expect(await ds.getRepository(Alarm).countBy({ deviceId })).toBe(2);
  });

  it('keeps at most one open technical alert per device and type', async () => {
    const { deviceId } = await newDevice();
    const alerts = ds.getRepository(TechnicalAlert);
    const raised = await alerts.save({ deviceId, type: 'low-battery', details: { battery: 9 } });
    await expect(alerts.insert({ deviceId, type: 'low-battery' })).rejects.toMatchObject({
      driverError: { code: '23505', constraint: 'alerts_one_open_per_device_type' },
    });
    await alerts.update(raised.id, { clearedAt: new Date() });
    await expect(alerts.insert({ deviceId, type: 'low-battery' })).resolves.toBeDefined();
  });

  it('enforces the allowed values of text enums (check constraints)', async () => {
    await expect(
      ds.getRepository(ProtectionCase).insert({ homeCicId: 'cic-namur', riskLevel: 'extreme' as never }),
    ).rejects.toMatchObject({ driverError: { code: '23514', constraint: 'cases_risk_level_check' } });
  });

  it('stores integrations and device commands', async () => {
    const { deviceId } = await newDevice();
    const integration = await ds.getRepository(Integration).save({ cicId: 'cic-hainaut', name: 'CAD', tokenHash: 'ab'.repeat(32) });
    expect(integration).toMatchObject({ id: expect.stringMatching(UUID), revokedAt: null });
    await expect(
      ds.getRepository(Integration).insert({ cicId: 'cic-namur', name: 'dup', tokenHash: 'ab'.repeat(32) }),
    ).rejects.toMatchObject({ driverError: { code: '23505' } });

    const command = await ds.getRepository(DeviceCommand).save({ deviceId, body: { cmd: 'config', heartbeatS: 600 } });
    expect(await ds.getRepository(DeviceCommand).findOneByOrFail({ id: command.id })).toMatchObject({
      state: 'queued',
      body: { cmd: 'config', heartbeatS: 600 },
      sentAt: null,
    });
  });

  it('sends BEGIN with the first statement and COMMIT with the final one, its values as literals', async () => {
    const { deviceId } = await newDevice();
    const tricky = ["it's", 'a"b', 'c\\d', 'é ✓', "x'); DROP TABLE cics; --"];
    const steps: string[] = [];
    const timed = stepTimer((step) => steps.push(step));
    const echoed = await inTransaction(
      ds,
      async (sql) => {
        const rows = await sql('spec-echo', `SELECT x AS v, $2::jsonb AS doc FROM unnest($1::text[]) WITH ORDINALITY AS u(x, n) ORDER BY n`, [tricky, JSON.stringify({ say: "l'a\\b" })]);
        await sql('spec-middle', `SELECT 1 FROM devices WHERE id = $1 FOR UPDATE`, [deviceId]);
        await sql('spec-battery', `UPDATE devices SET battery = $2 WHERE id = $1`, [deviceId, 42], true);
        return rows;
      },
      { timed, fewerRoundTrips: true },
    );
    expect(echoed.map((r) => r.v)).toEqual(tricky);
    expect(echoed[0]!.doc).toEqual({ say: "l'a\\b" });
    expect(steps).toEqual(['connection', 'begin + spec-echo', 'spec-middle', 'spec-battery + commit']);
    expect((await ds.query(`SELECT battery FROM devices WHERE id = $1`, [deviceId]))[0].battery).toBe(42);
    expect((await ds.query(`SELECT count(*)::int AS n FROM cics`))[0].n).toBeGreaterThan(0);

    // a final statement that fails takes the transaction's earlier statements with it
    await expect(
      inTransaction(
        ds,
        async (sql) => {
          await sql('spec-battery', `UPDATE devices SET battery = $2 WHERE id = $1`, [deviceId, 7]);
          await sql('spec-fail', `SELECT 1 / $1::int`, [0], true);
        },
        { fewerRoundTrips: true },
      ),
    ).rejects.toThrow(/division by zero/);
    expect((await ds.query(`SELECT battery FROM devices WHERE id = $1`, [deviceId]))[0].battery).toBe(42);
    // and the connection is usable again
    await inTransaction(ds, (sql) => sql('spec-battery', `UPDATE devices SET battery = $2 WHERE id = $1`, [deviceId, 9], true), { fewerRoundTrips: true });
    expect((await ds.query(`SELECT battery FROM devices WHERE id = $1`, [deviceId]))[0].battery).toBe(9);
  });

  it('sends BEGIN and COMMIT with the statements by default on PostgreSQL, on their own on the embedded database', async () => {
    const { deviceId } = await newDevice();
    const run = async (db: Parameters<typeof inTransaction>[0]) => {
      const steps: string[] = [];
      await inTransaction(db, (sql) => sql('spec-battery', `UPDATE devices SET battery = $2 WHERE id = $1`, [deviceId, 11], true), { timed: stepTimer((step) => steps.push(step)) });
      return steps;
    };
    const expected = engine.name === 'PostgreSQL' ? ['connection', 'begin + spec-battery + commit'] : ['connection', 'begin', 'spec-battery', 'commit'];
    expect(await run(ds)).toEqual(expected);
    expect(await run(reservedConnections(ds, 'spec-default', 1))).toEqual(expected);
    expect((await ds.query(`SELECT battery FROM devices WHERE id = $1`, [deviceId]))[0].battery).toBe(11);
  });

  it('sends statements together: one round trip on PostgreSQL, each read after the lock before it sees what its holder committed', async () => {
    const { deviceId } = await newDevice('dev-locked');
    const { deviceId: otherId } = await newDevice('dev-other');
    const steps: string[] = [];
    const timed = stepTimer((step) => steps.push(step));
    const postgres = engine.name === 'PostgreSQL';
    // another transaction holds the device's lock (the embedded database has one connection: no holder there)
    const holder = postgres ? ds.createQueryRunner() : null;
    if (holder) {
      await holder.connect();
      await holder.startTransaction();
      await holder.query(`SELECT 1 FROM devices WHERE id = $1 FOR UPDATE`, [deviceId]);
    } else {
      await ds.query(`UPDATE devices SET battery = 55 WHERE id = $1`, [otherId]);
    }
    const read = inTransaction(
      ds,
      (sql) =>
        sql.together(
          [
            { name: 'spec-lock', text: `SELECT id FROM devices WHERE id = $1 FOR UPDATE`, values: [deviceId] },
            { name: 'spec-read', text: `SELECT battery FROM devices WHERE id = $1`, values: [otherId] },
          ],
          true,
        ),
      { timed },
    );
    if (holder) {
      await new Promise((r) => setTimeout(r, 200)); // the lock is waited for
      await holder.query(`UPDATE devices SET battery = 55 WHERE id = $1`, [otherId]);
      await holder.commitTransaction();
      await holder.release();
    }
    const [locked, other] = await read;
    expect(locked).toEqual([{ id: deviceId }]);
    // committed while the lock was waited for: a statement's snapshot starts after the one before it
    expect(other).toEqual([{ battery: 55 }]);
    expect(steps).toEqual(postgres ? ['connection', 'begin + spec-lock + spec-read + commit'] : ['connection', 'begin', 'spec-lock', 'spec-read', 'commit']);
  });

  // the embedded database has one connection: the shared one
  (engine.name === 'PostgreSQL' ? it : it.skip)('gives a hot path connections of its own, free while the shared pool is taken', async () => {
    const runners = Array.from({ length: 20 }, () => ds.createQueryRunner());
    await Promise.all(runners.map((r) => r.connect()));
    try {
      const reserved = reservedConnections(ds, 'spec', 1);
      const rows = await inTransaction(reserved, (sql) => sql('spec-one', 'SELECT $1::int AS n', [7], true), { fewerRoundTrips: true });
      expect(rows).toEqual([{ n: 7 }]);
      const [{ name }] = (await inTransaction(reserved, (sql) => sql('spec-app', 'SELECT current_setting($1) AS name', ['application_name']))) as [{ name: string }];
      expect(name).toBe('amr-spec');
      // the shared pool, meanwhile, has nothing to give
      const shared = ds.createQueryRunner();
      const connecting = shared.connect();
      const waited = await Promise.race([connecting.then(() => 'connected'), new Promise((r) => setTimeout(() => r('waiting'), 300))]);
      expect(waited).toBe('waiting');
      await runners.pop()!.release();
      await connecting;
      await shared.release();
    } finally {
      await Promise.all(runners.map((r) => r.release()));
    }
  });

  it('resetDatabase empties every table but cics and migrations, and restarts ids', async () => {
    const { caseId, deviceId } = await newDevice();
    const alarm = await ds.getRepository(Alarm).save(openAlarm(deviceId, caseId));
    await ds.getRepository(AlarmEvent).save([{ alarmId: alarm.id, type: 'a' }, { alarmId: alarm.id, type: 'b' }]);

    await resetDatabase(ds);
    expect(await ds.getRepository(Alarm).count()).toBe(0);
    expect(await ds.getRepository(Device).count()).toBe(0);
    expect(await ds.getRepository(Cic).count()).toBe(11);
    expect(await ds.showMigrations()).toBe(false);

    const again = await newDevice();
    const next = await ds.getRepository(Alarm).save(openAlarm(again.deviceId, again.caseId));
    expect((await ds.getRepository(AlarmEvent).save({ alarmId: next.id, type: 'c' })).id).toBe(1);
  });

  it('serves many concurrent callers, transactions and plain queries mixed', async () => {
    const { caseId, deviceId } = await newDevice();
    const alarm = await ds.getRepository(Alarm).save(openAlarm(deviceId, caseId));
    await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        i % 2
          ? ds.transaction((m) => m.insert(AlarmEvent, { alarmId: alarm.id, type: `tx-${i}` }))
          : ds.getRepository(AlarmEvent).insert({ alarmId: alarm.id, type: `plain-${i}` }),
      ),
    );
    expect(await ds.getRepository(AlarmEvent).countBy({ alarmId: alarm.id })).toBe(50);
  });

  if (engine.name.startsWith('PGlite')) {
    it('isolates concurrent transactions: the second waits, and never sees the first one’s rolled-back writes', async () => {
      const order: string[] = [];
      let letAFinish!: () => void;
      const aMayFinish = new Promise<void>((resolve) => (letAFinish = resolve));

      const a = ds
        .transaction(async (manager) => {
          await manager.insert(ProtectionCase, { homeCicId: 'cic-namur', reference: 'written-by-A' });
          order.push('A wrote');
          await aMayFinish;
          order.push('A rolls back');
          throw new Error('roll back A');
        })
        .catch((err: Error) => err.message);
      await until(() => order.includes('A wrote'));

      const b = ds.transaction(async (manager) => {
        order.push('B started');
        return manager.countBy(ProtectionCase, { reference: 'written-by-A' });
      });
      const pool = (ds.driver as unknown as { master: { waitingCount: number } }).master;
      await until(() => pool.waitingCount === 1);
      expect(order).toEqual(['A wrote']); // B is queued behind A

      letAFinish();
      expect(await a).toBe('roll back A');
      expect(await b).toBe(0);
      expect(order).toEqual(['A wrote', 'A rolls back', 'B started']);
    });
  }
});

describe('openDatabase failures', () => {
  it('throws DatabaseUnavailableError at the first refusal, on one line without the password, when PostgreSQL is unreachable', async () => {
    // Every TCP connection attempt to the unreachable port, whoever makes it (pg opens them through net.Socket).
    const connect = jest.spyOn(Socket.prototype, 'connect');
    let attempts = 0;
    const error = await openDatabase({ url: 'postgres://amr:s3cret-pw@127.0.0.1:1/amr', dataDir: 'unused' })
      .catch((err: unknown) => err)
      .finally(() => {
        attempts = connect.mock.calls
          .map(([target]: unknown[]) => (typeof target === 'object' && target !== null ? (target as { port?: unknown }).port : target))
          .filter((port) => Number(port) === 1).length;
        connect.mockRestore();
      });
    expect(error).toBeInstanceOf(DatabaseUnavailableError);
    const { message } = error as Error;
    expect(message).toBe(
      'Cannot reach PostgreSQL at 127.0.0.1:1 (ECONNREFUSED): check DATABASE_URL or unset it to use the embedded database',
    );
    expect(message).not.toContain('s3cret-pw');
    // Fast: one attempt, refused, and the error, with no retry and no connect timeout waited out.
    expect(attempts).toBe(1);
  });

  it('explains an invalid DATABASE_URL without echoing it', async () => {
    const error = await openDatabase({ url: 'postgres://amr:s3cret pw@[bad', dataDir: 'unused' }).catch((err: Error) => err);
    expect(error).toBeInstanceOf(DatabaseUnavailableError);
    expect((error as Error).message).toMatch(/^DATABASE_URL is not a valid URL: use postgres:\/\//);
    expect((error as Error).message).not.toContain('s3cret');
  });

  if (TEST_DATABASE_URL) {
    it('says when the PostgreSQL database does not exist', async () => {
      const url = new URL(TEST_DATABASE_URL);
      url.pathname = '/amr_persistence_spec_missing';
      const error = await openDatabase({ url: url.toString(), dataDir: 'unused' }).catch((err: Error) => err);
      expect(error).toBeInstanceOf(DatabaseUnavailableError);
      expect((error as Error).message).toMatch(
        /^Database "amr_persistence_spec_missing" does not exist on PostgreSQL at [^ ]+: create it/,
      );
    });
  }
});

/** Lets queued promise callbacks run until `condition` holds (no timers, no sleeping). */
async function until(condition: () => boolean, turns = 10_000): Promise<void> {
  for (let i = 0; i < turns && !condition(); i++) await new Promise((r) => setImmediate(r));
  if (!condition()) throw new Error('condition never became true');
}
