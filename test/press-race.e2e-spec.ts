import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { deviceTopic, encodePayload } from '@amr/protocol';
import { BOOT_TIMEOUT_MS, usePlatform } from './support/platform.js';
import { TestDevice } from './support/device.js';
import { eventually } from './support/eventually.js';

const postgresUrl = process.env.TEST_DATABASE_URL || undefined;

/**
 * A press whose device is locked elsewhere waits for the lock (PressStore.storeAlone). If, meanwhile,
 * another transaction stored the same (device, seq) — another node that had the device's connection a
 * moment ago — the press must see that once it has the lock: it is the same press, not one more.
 * (PostgreSQL only: the embedded database has a single connection, so nothing else can hold a lock.)
 */
(postgresUrl ? describe : describe.skip)('a press that waited for its device', () => {
  const suite = usePlatform();
  let sql: pg.Client;

  beforeAll(async () => {
    sql = new pg.Client({ connectionString: postgresUrl });
    await sql.connect();
  }, BOOT_TIMEOUT_MS);

  afterAll(async () => {
    await sql?.query('ROLLBACK').catch(() => undefined);
    await sql?.end();
  });

  it('finds what was stored while it waited: a retransmission, not a second press', async () => {
    const { deviceId, secret } = await suite.platform.provision();
    const device = await TestDevice.connect(suite.platform.mqttUrl, deviceId, secret);
    try {
      await device.press({ seq: 1, ts: 1_790_000_000 });
      const first = await device.stage('received', 1);

      // Another transaction holds the device, and stores press 2 in the open alarm while our copy waits.
      await sql.query('BEGIN');
      await sql.query('SELECT 1 FROM devices WHERE id = $1 FOR UPDATE', [deviceId]);
      device.client.publish(deviceTopic(deviceId, 'alarm'), encodePayload({ seq: 2, ts: 1_790_000_010 }, 'cbor'), { qos: 1 });
      // The press's statement waits for the device's lock.
      await eventually(
        async () => (await sql.query(`SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database() AND pid <> pg_backend_pid()`)).rows.length,
        (waiting) => waiting > 0,
        10_000,
      );
      await sql.query(
        `INSERT INTO alarm_presses (alarm_id, device_id, seq, device_ts, message) VALUES ($1, $2, 2, 1790000010, '{"seq":2}')`,
        [first.alarm, deviceId],
      );
      await sql.query(`UPDATE alarms SET press_count = press_count + 1, last_seq = 2 WHERE id = $1`, [first.alarm]);
      await sql.query('COMMIT');

      const second = await device.stage('received', 2);
      expect(second.alarm).toBe(first.alarm);
      const { rows: presses } = await sql.query(`SELECT count(*)::int AS n FROM alarm_presses WHERE device_id = $1 AND seq = 2`, [deviceId]);
      expect(presses[0].n).toBe(1);
      const { rows: alarms } = await sql.query(`SELECT press_count, retransmissions FROM alarms WHERE device_id = $1`, [deviceId]);
      expect(alarms).toEqual([{ press_count: 2, retransmissions: 1 }]);
    } finally {
      await device.client.endAsync(true);
    }
  }, 30_000);
});
