import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { DataSource, QueryRunner } from 'typeorm';
import { Alarm, AlarmPosition, Device, DeviceStatusReport, ProtectionCase, closeDatabase, openDatabase, resetDatabase } from '@amr/persistence';
import { TelemetryStore } from './telemetry-store.js';

const onPostgres = Boolean(process.env.TEST_DATABASE_URL);

describe(TelemetryStore.name, () => {
  let db: DataSource;
  let alarmId: string;
  /** Transactions begun on the database (one per batch, plus one per message written alone). */
  let transactions = 0;

  beforeAll(async () => {
    db = await openDatabase({ url: process.env.TEST_DATABASE_URL || undefined, dataDir: 'memory://' });
    await resetDatabase(db);
    const protectionCase = await db.getRepository(ProtectionCase).save({ homeCicId: 'cic-limburg' });
    await db.getRepository(Device).insert(
      ['btn-a', 'btn-b', 'btn-c', 'btn-busy'].map((id) => ({ id, secretHash: 'x', caseId: protectionCase.id, battery: 80, fw: '1.0.0' })),
    );
    const alarm = await db.getRepository(Alarm).save({
      deviceId: 'btn-a', caseId: protectionCase.id, cicId: 'cic-antwerpen', homeCicId: 'cic-limburg', kind: 'panic', firstSeq: 1, lastSeq: 1,
    });
    alarmId = alarm.id;
    const createQueryRunner = db.createQueryRunner.bind(db);
    db.createQueryRunner = (...args: Parameters<DataSource['createQueryRunner']>): QueryRunner => {
      transactions++;
      return createQueryRunner(...args);
    };
  }, 120_000);

  afterAll(async () => {
    if (db) await closeDatabase(db);
  });

  it('writes heartbeats and positions that arrive together in one transaction, and says which alarm each position joined', async () => {
    const store = new TelemetryStore(db);
    const receivedAt = new Date();
    const before = transactions;
    const [onAlarm, noAlarm, status, seen] = await Promise.all([
      store.store({ kind: 'position', deviceId: 'btn-a', position: { lat: 50.9, lon: 5.3, acc: 12, src: 'gnss' }, encoding: 'json', receivedAt }),
      store.store({ kind: 'position', deviceId: 'btn-b', position: { lat: 51.2, lon: 4.4 }, encoding: 'cbor', receivedAt }),
      store.store({ kind: 'status', deviceId: 'btn-c', status: { seq: 7, rsrp: -95, loc: { lat: 50.8, lon: 4.3 } }, encoding: 'json', receivedAt }),
      store.store({ kind: 'seen', deviceId: 'btn-busy', receivedAt }),
    ]);
    expect(transactions - before).toBe(1);

    expect(onAlarm).toEqual({ id: alarmId, cicId: 'cic-antwerpen', homeCicId: 'cic-limburg' });
    expect(noAlarm).toBeNull();
    expect(status).toBeNull();
    expect(seen).toBeNull();

    const positions = await db.getRepository(AlarmPosition).find({ where: { alarmId } });
    expect(positions).toMatchObject([{ lat: 50.9, lon: 5.3, acc: 12, ts: null, src: 'gnss' }]);
    const [report] = await db.getRepository(DeviceStatusReport).find({ where: { deviceId: 'btn-c' } });
    expect(report).toMatchObject({ seq: 7, rsrp: -95, battery: null, fw: null, position: { lat: 50.8, lon: 4.3 } });

    const devices = new Map((await db.getRepository(Device).find()).map((d) => [d.id, d]));
    // Only what a message carried changes; the rest of the device's state stands.
    expect(devices.get('btn-c')).toMatchObject({ encoding: 'json', rsrp: -95, battery: 80, fw: '1.0.0', lastPosition: { lat: 50.8, lon: 4.3 } });
    expect(devices.get('btn-a')).toMatchObject({ encoding: 'json', battery: 80, lastPosition: { lat: 50.9, lon: 5.3, acc: 12, src: 'gnss' } });
    expect(devices.get('btn-b')).toMatchObject({ encoding: 'cbor', lastPosition: { lat: 51.2, lon: 4.4 } });
    expect(devices.get('btn-busy')).toMatchObject({ encoding: 'cbor', lastPosition: null });
    for (const id of ['btn-a', 'btn-b', 'btn-c', 'btn-busy']) expect(devices.get(id)!.lastSeenAt).toEqual(receivedAt);
  });

  it('collects what arrives during a write into the next transaction', async () => {
    const store = new TelemetryStore(db);
    const before = transactions;
    const status = (deviceId: string, seq: number) => store.store({ kind: 'status', deviceId, status: { seq, bat: 50 }, encoding: 'cbor', receivedAt: new Date() });
    const first = status('btn-a', 1);
    while (transactions === before) await new Promise((resolve) => setTimeout(resolve, 1)); // the first batch has started
    await Promise.all([first, status('btn-b', 2), status('btn-c', 3)]);
    expect(transactions - before).toBe(2);
    expect(await db.getRepository(DeviceStatusReport).countBy({ battery: 50 })).toBe(3);
  });

  it('holds a message briefly so that those arriving one by one share its transaction', async () => {
    const store = new TelemetryStore(db);
    const before = transactions;
    const status = (deviceId: string, seq: number) => store.store({ kind: 'status', deviceId, status: { seq, bat: 40 }, encoding: 'cbor', receivedAt: new Date() });
    const first = status('btn-a', 11);
    await new Promise((resolve) => setImmediate(resolve)); // without the hold, a batch would start here
    const second = status('btn-b', 12);
    await new Promise((resolve) => setImmediate(resolve)); // without the hold, a batch would start here
    await Promise.all([first, second, status('btn-c', 13)]);
    expect(transactions - before).toBe(1);
    expect(await db.getRepository(DeviceStatusReport).countBy({ battery: 40 })).toBe(3);
  });

  (onPostgres ? it : it.skip)('writes the others at once when a device row is locked elsewhere, and that one once it is free', async () => {
    const store = new TelemetryStore(db);
    const holder = db.createQueryRunner();
    await holder.connect();
    await holder.startTransaction();
    await holder.query(`SELECT id FROM devices WHERE id = 'btn-busy' FOR UPDATE`);
    let busyDone = false;
    const busy = store.store({ kind: 'status', deviceId: 'btn-busy', status: { seq: 40, bat: 11 }, encoding: 'cbor', receivedAt: new Date() }).then(() => {
      busyDone = true;
    });
    try {
      await store.store({ kind: 'status', deviceId: 'btn-b', status: { seq: 41, bat: 12 }, encoding: 'cbor', receivedAt: new Date() });
      // btn-b's report is committed while btn-busy is still waiting for its row.
      expect(await db.getRepository(DeviceStatusReport).countBy({ deviceId: 'btn-b', seq: 41 })).toBe(1);
      expect(busyDone).toBe(false);
    } finally {
      await holder.commitTransaction();
      await holder.release();
    }
    await busy;
    expect(await db.getRepository(DeviceStatusReport).countBy({ deviceId: 'btn-busy', seq: 40 })).toBe(1);
  });
});
