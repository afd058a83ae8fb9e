import { describe, expect, it } from '@jest/globals';
import { decodeMap, deviceTopic, parseCmd } from '@amr/protocol';
import { startTestPlatform, usePlatform, type TestPlatform } from './support/platform.js';
import { TestDevice, connectClient } from './support/device.js';
import { SseClient, type SseEvent } from './support/sse.js';
import { eventually } from './support/eventually.js';

/**
 * Supervision (docs/supervision.md): short intervals through the environment — the sweep
 * every 100 ms, and AMR_MIN_HEARTBEAT_S=1 so that the API itself sets a device's heartbeat to 1 s.
 */
const SWEEP_MS = 100;
const ENV = { AMR_SUPERVISION_SWEEP_MS: String(SWEEP_MS), AMR_MIN_HEARTBEAT_S: '1', AMR_LOW_BATTERY_PCT: '20' };

describe('supervision: silent devices, low battery, commands', () => {
  const suite = usePlatform(ENV);
  const api = () => suite.platform.api();
  const status = (device: TestDevice, fields: Record<string, unknown>) => device.publishRaw('status', Buffer.from(JSON.stringify({ seq: 1, ...fields })));
  const alertOf = (deviceId: string, event: string, type = 'silent') => (e: SseEvent) => e.event === event && e.data.deviceId === deviceId && e.data.type === type;

  async function stream(cicId: string): Promise<SseClient> {
    const sse = new SseClient(`${suite.platform.httpUrl}/api/v1/events`, await suite.platform.integrationToken(cicId));
    await sse.opened;
    return sse;
  }

  it('raises `silent` within heartbeat + grace for the case’s CIC only, and clears it on the next heartbeat', async () => {
    const antwerpen = await stream('cic-antwerpen');
    const other = await stream('cic-oost-vlaanderen').catch((err: unknown) => (antwerpen.close(), Promise.reject(err)));
    try {
      const { deviceId, secret, caseId } = await suite.platform.provision('cic-antwerpen');
      await api().patch(`/devices/${deviceId}`, { heartbeatS: 1, graceS: 1 }).expect(200);
      const device = await TestDevice.connect(suite.platform.mqttUrl, deviceId, secret);
      await status(device, { bat: 80 });
      const seen = await eventually(() => api().get(`/devices/${deviceId}`).then((r) => r.body), (h) => h.battery === 80);
      await device.close();

      const raised = await antwerpen.next(alertOf(deviceId, 'alert.raised'), 10_000);
      const lastSeen = Date.parse(seen.lastSeenAt);
      const raisedAt = Date.parse(raised.data.raisedAt);
      const dueAt = Date.parse(raised.data.details.dueAt);
      expect(raised.data).toMatchObject({ type: 'silent', caseId, cicId: 'cic-antwerpen', clearedAt: null, details: { heartbeatS: 1, graceS: 1 } });
      // Due heartbeat + grace (2 s) after it was last seen; raised by a sweep at or after that, and by
      // one of the first: a sweep runs every 100 ms, and 20 of them leave room for a loaded machine
      // (the platform's clock on both sides).
      expect(dueAt - lastSeen).toBe((1 + 1) * 1000);
      expect(raisedAt).toBeGreaterThanOrEqual(dueAt);
      expect(raisedAt - dueAt).toBeLessThan(20 * SWEEP_MS);
      const open = (await api().get(`/alerts?state=open&type=silent&deviceId=${deviceId}`).expect(200)).body;
      expect(open).toEqual([expect.objectContaining({ id: raised.data.id, deviceId, type: 'silent', clearedAt: null })]);
      expect((await api().get(`/devices?silent=true&caseId=${caseId}`).expect(200)).body.items.map((d: { id: string }) => d.id)).toEqual([deviceId]);

      // It speaks again: the alert is cleared (a restore), for the same CIC.
      const again = await TestDevice.connect(suite.platform.mqttUrl, deviceId, secret);
      await status(again, { bat: 79 });
      const cleared = await antwerpen.next(alertOf(deviceId, 'alert.cleared'), 5000);
      expect(cleared.data).toMatchObject({ id: raised.data.id, clearedAt: expect.any(String), details: { clearedBecause: 'device-spoke' } });
      await again.close();
      expect(other.events.filter((e) => e.data?.deviceId === deviceId)).toEqual([]);
      expect(await suite.platform.metric('amr_technical_alerts_cleared_total', { type: 'silent' })).toBeGreaterThanOrEqual(1);
    } finally {
      antwerpen.close();
      other.close();
    }
  });

  it('raises `low-battery` below the threshold and clears it only 5 points above it', async () => {
    const sse = await stream('cic-liege');
    try {
      const { deviceId, secret } = await suite.platform.provision('cic-liege');
      const device = await TestDevice.connect(suite.platform.mqttUrl, deviceId, secret);
      await status(device, { bat: 12 });
      const raised = await sse.next(alertOf(deviceId, 'alert.raised', 'low-battery'));
      expect(raised.data.details).toMatchObject({ battery: 12, thresholdPct: 20 });
      await status(device, { seq: 2, bat: 22 });
      await eventually(() => api().get(`/devices/${deviceId}`).then((r) => r.body), (h) => h.battery === 22);
      await status(device, { seq: 3, bat: 26 });
      const cleared = await sse.next(alertOf(deviceId, 'alert.cleared', 'low-battery'));
      expect(cleared.data.details).toMatchObject({ clearedBecause: 'recharged' });
      // 22 % was not enough to clear it: one raise, one clear
      expect(sse.events.filter((e) => e.data?.deviceId === deviceId).map((e) => e.event)).toEqual(['alert.raised', 'alert.cleared']);
      await device.close();
    } finally {
      sse.close();
    }
  });

  it('a mast outage: 200 devices falling silent at once raise 200 alerts in one sweep', async () => {
    const N = 200;
    const sse = await stream('cic-namur');
    try {
      const caseId = (await api().post('/cases', { homeCicId: 'cic-namur' }).expect(201)).body.id as string;
      const started = Date.now();
      // Last heard an hour and a half ago, with a one-hour heartbeat and ten minutes of grace.
      await suite.db.query(
        `INSERT INTO devices (id, case_id, secret_hash, last_seen_at, assigned_at)
         SELECT 'mast-' || i, $1, 'unused', now() - interval '90 minutes', now() - interval '1 day' FROM generate_series(1, $2::int) i`,
        [caseId, N],
      );
      await eventually(async () => sse.events.filter((e) => e.event === 'alert.raised' && String(e.data.deviceId).startsWith('mast-')).length, (n) => n === N, 10_000);
      const elapsed = Date.now() - started;
      const rows: { n: number; sweeps: number }[] = await suite.db.query(
        `SELECT count(*)::int AS n, count(DISTINCT raised_at)::int AS sweeps FROM alerts WHERE device_id LIKE 'mast-%' AND type = 'silent' AND cleared_at IS NULL`,
      );
      expect(rows[0]).toEqual({ n: N, sweeps: 1 }); // one statement: one raised_at for all
      // The CIC hears of all of them as one sweep's alerts: the same raisedAt, one event each.
      const heard = sse.events.filter((e) => e.event === 'alert.raised' && String(e.data.deviceId).startsWith('mast-'));
      expect(new Set(heard.map((e) => e.data.deviceId)).size).toBe(N);
      expect(new Set(heard.map((e) => e.data.raisedAt)).size).toBe(1);
      process.stdout.write(`supervision: ${N} silent devices reported ${elapsed} ms after they were written\n`);
    } finally {
      sse.close();
      await suite.db.query(`DELETE FROM devices WHERE id LIKE 'mast-%'`);
    }
  });

  it('delivers a command queued while the device was offline when it reconnects, and marks it delivered', async () => {
    const { deviceId, secret } = await suite.platform.provision();
    const options = { clientId: deviceId, username: deviceId, password: secret, clean: false };
    const first = await connectClient(suite.platform.mqttUrl, options);
    await first.subscribeAsync(deviceTopic(deviceId, 'cmd'), { qos: 1 });
    await first.endAsync();

    const queued = (await api().post(`/devices/${deviceId}/commands`, { cmd: 'vibrate', vib: 'double' }).expect(201)).body;
    expect(queued).toMatchObject({ id: expect.any(String), state: 'sent' });
    expect((await api().get(`/devices/${deviceId}/commands`).expect(200)).body).toEqual([
      expect.objectContaining({ id: queued.id, state: 'sent', deliveredAt: null }),
    ]);

    const again = await connectClient(suite.platform.mqttUrl, options);
    try {
      const payload = await new Promise<Buffer>((resolve) => again.on('message', (_t, p) => resolve(p)));
      expect(parseCmd(payload)).toMatchObject({ ok: true, message: { cmd: 'vibrate', vib: 'double' } });
      expect(decodeMap(payload)).toMatchObject({ ok: true, value: { map: { id: queued.id } } }); // CONTRACT §3: an extra key
      const [command] = await eventually(() => api().get(`/devices/${deviceId}/commands`).then((r) => r.body), (c) => c[0]?.state === 'delivered');
      expect(Date.parse(command.deliveredAt)).toBeGreaterThanOrEqual(Date.parse(command.sentAt));
    } finally {
      await again.endAsync();
    }
  });

  it('re-sends an unacknowledged command from the database when the device subscribes (a session the broker does not have)', async () => {
    const { deviceId, secret } = await suite.platform.provision();
    // Never connected: the broker has no session to hold it in (as after a broker restart).
    const queued = (await api().post(`/devices/${deviceId}/commands`, { cmd: 'locate' }).expect(201)).body;
    const device = await TestDevice.connect(suite.platform.mqttUrl, deviceId, secret, { clean: false });
    try {
      const arrived = new Promise<Buffer>((resolve) => device.client.on('message', (t, p) => t.endsWith('/cmd') && resolve(p)));
      await device.client.subscribeAsync(deviceTopic(deviceId, 'cmd'), { qos: 1 });
      expect(parseCmd(await arrived)).toMatchObject({ ok: true, message: { cmd: 'locate' } });
      await eventually(() => api().get(`/devices/${deviceId}/commands`).then((r) => r.body), (c) => c[0]?.id === queued.id && c[0]?.state === 'delivered');
    } finally {
      await device.close();
    }
  });

  it('loses no supervision deadline across a restart of the platform', async () => {
    const { deviceId, secret } = await suite.platform.provision('cic-vlaams-brabant');
    await api().patch(`/devices/${deviceId}`, { heartbeatS: 5, graceS: 1 }).expect(200);
    const device = await TestDevice.connect(suite.platform.mqttUrl, deviceId, secret);
    await status(device, { bat: 90 });
    const seen = await eventually(() => api().get(`/devices/${deviceId}`).then((r) => r.body), (h) => h.battery === 90);
    await device.close();

    // The platform stops before the deadline (last seen + 6 s) and comes back.
    const due = Date.parse(seen.lastSeenAt) + 6000;
    const mutable = suite as { platform: TestPlatform };
    await mutable.platform.close();
    const restartedAt = Date.now();
    expect(restartedAt).toBeLessThan(due);
    mutable.platform = await startTestPlatform(suite.db, ENV);

    const sse = new SseClient(`${suite.platform.httpUrl}/api/v1/events`, await suite.platform.integrationToken('cic-vlaams-brabant'));
    try {
      await sse.opened;
      const raised = await sse.next(alertOf(deviceId, 'alert.raised'), 8000);
      expect(raised.data.details).toMatchObject({ heartbeatS: 5, graceS: 1 });
      expect(Date.parse(raised.data.details.dueAt)).toBe(due); // what the CIC is told it missed
      expect(Date.parse(raised.data.details.lastSeenAt)).toBe(Date.parse(seen.lastSeenAt));
      expect(Date.parse(raised.data.raisedAt)).toBeGreaterThanOrEqual(due);
      expect(Date.parse(raised.data.raisedAt)).toBeGreaterThan(restartedAt);
      expect((await api().get(`/alerts?deviceId=${deviceId}`).expect(200)).body).toHaveLength(1);
    } finally {
      sse.close();
    }
  });
});
