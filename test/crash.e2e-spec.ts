import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { ChildProcess } from 'node:child_process';
import pg from 'pg';
import { deviceTopic, encodePayload } from '@amr/protocol';
import { ADMIN_TOKEN, BOOT_TIMEOUT_MS, closeDatabase, openTestDatabase } from './support/platform.js';
import { TestDevice } from './support/device.js';
import { ChildApp, MAINS, freePort } from './support/processes.js';

const postgresUrl = process.env.TEST_DATABASE_URL || undefined;

/** The compiled all-in-one platform in a child process, so that it can be killed with SIGKILL. */
async function startChild(env: Record<string, string>): Promise<ChildProcess> {
  const app = await ChildApp.spawn(MAINS.platform, env).until((a) => a.output.includes('is running'), 'platform start-up');
  return app.child;
}

async function until<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/**
 * A crash at the worst moment: the press's transaction has committed, the process dies before the
 * button was answered. Nothing is acknowledged that was not stored, nothing stored is lost, and
 * the press sent again after the restart is the same alarm. (PostgreSQL only: the commit must be
 * able to finish while the platform process is already dead.)
 */
(postgresUrl ? describe : describe.skip)('a crash between the commit and the ack', () => {
  let db: Awaited<ReturnType<typeof openTestDatabase>>;
  let sql: pg.Client;

  beforeAll(async () => {
    db = await openTestDatabase();
    sql = new pg.Client({ connectionString: postgresUrl });
    await sql.connect();
  }, BOOT_TIMEOUT_MS);

  afterAll(async () => {
    await sql?.query('DROP TRIGGER IF EXISTS slow_commit ON alarm_presses').catch(() => undefined);
    await sql?.query('DROP FUNCTION IF EXISTS slow_commit()').catch(() => undefined);
    await sql?.end();
    if (db) await closeDatabase(db);
  }, BOOT_TIMEOUT_MS);

  it('loses no press and makes no second alarm', async () => {
    const [mqttPort, httpPort] = [await freePort(), await freePort()];
    const env = {
      DATABASE_URL: postgresUrl!,
      MQTT_HOST: '127.0.0.1',
      MQTT_PORT: String(mqttPort),
      HTTP_HOST: '127.0.0.1',
      HTTP_PORT: String(httpPort),
      AMR_ADMIN_TOKEN: ADMIN_TOKEN,
      AMR_NODE_ID: 'crash-test',
    };
    let child = await startChild(env);
    let device: TestDevice | undefined;
    try {
      const api = `http://127.0.0.1:${httpPort}/api/v1`;
      const post = async (path: string, body: object) => {
        const res = await fetch(api + path, { method: 'POST', headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
        expect(res.status).toBe(201);
        return (await res.json()) as Record<string, string>;
      };
      const { id: caseId } = await post('/cases', { homeCicId: 'cic-antwerpen', riskLevel: 'high' });
      const { deviceId, secret } = await post('/devices', { caseId: caseId! });

      // The commit of this device's press takes 3 s (a deferred trigger runs at COMMIT).
      await sql.query(`CREATE OR REPLACE FUNCTION slow_commit() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN IF NEW.device_id = '${deviceId}' THEN PERFORM pg_sleep(3); END IF; RETURN NULL; END $$`);
      await sql.query(`CREATE CONSTRAINT TRIGGER slow_commit AFTER INSERT ON alarm_presses
        DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION slow_commit()`);

      const url = `mqtt://127.0.0.1:${mqttPort}`;
      device = await TestDevice.connect(url, deviceId!, secret!, { clean: false, reconnectPeriod: 300 });
      let pubacked = false;
      device.client.publish(deviceTopic(deviceId!, 'alarm'), encodePayload({ seq: 1, ts: 1_790_000_000 }, 'cbor'), { qos: 1 }, (err) => (pubacked = !err));

      // The platform has sent COMMIT and waits for it: kill it now.
      await until(async () => {
        const { rows } = await sql.query(`SELECT 1 FROM pg_stat_activity WHERE wait_event = 'PgSleep' AND pid <> pg_backend_pid()`);
        return rows.length > 0 ? true : undefined;
      }, 'the commit to be under way');
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));

      // The commit completes without the process: the press is stored, the button was told nothing.
      const stored = await until(async () => {
        const { rows } = await sql.query(`SELECT id FROM alarms WHERE device_id = $1`, [deviceId]);
        return rows.length > 0 ? (rows[0].id as string) : undefined;
      }, 'the commit to complete');
      expect(device.acks).toEqual([]);
      expect(pubacked).toBe(false);

      // Back up on the same ports: the button reconnects and sends its press again (same seq).
      await sql.query('DROP TRIGGER slow_commit ON alarm_presses');
      child = await startChild(env);
      await until(async () => (device!.client.connected ? true : undefined), 'the button to reconnect');
      await device.press({ seq: 1, ts: 1_790_000_000 });
      const received = await device.stage('received', 1, 10_000);
      expect(received.alarm).toBe(stored);
      expect(device.acks.filter((a) => a.stage === 'received').every((a) => a.alarm === stored)).toBe(true);

      const { rows: alarms } = await sql.query(`SELECT id, press_count FROM alarms WHERE device_id = $1`, [deviceId]);
      expect(alarms).toEqual([{ id: stored, press_count: 1 }]);
      const { rows: presses } = await sql.query(`SELECT count(*)::int AS n FROM alarm_presses WHERE device_id = $1`, [deviceId]);
      expect(presses[0].n).toBe(1);
    } finally {
      await device?.client.endAsync(true);
      child.kill('SIGKILL');
    }
  }, BOOT_TIMEOUT_MS);
});
