import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeSmsAlarm, readSmsAck, smsKey, type AlarmMessage } from '@amr/protocol';
import { openDatabase } from '@amr/persistence';
import { ADMIN_TOKEN, BOOT_TIMEOUT_MS, closeDatabase, openTestDatabase, startTestPlatform, usePlatform, type TestPlatform } from './support/platform.js';
import { ChildApp, MAINS, freePort } from './support/processes.js';
import { TestDevice } from './support/device.js';
import { FakeSmsGateway } from './support/sms-gateway.js';
import { eventually } from './support/eventually.js';

const GATEWAY_TOKEN = 'test-sms-gateway-token-0123456789';
const NAMUR = { lat: 50.4674, lon: 4.872, acc: 15, src: 'gnss' as const };

type TimelineEntry = { stage?: string; event?: string; [key: string]: unknown };

/** The texts of the given stage posted to `to` that verify with `key` (every copy: a text posted twice counts twice). */
function postedAcks(gateway: FakeSmsGateway, to: string, key: Uint8Array, stage: string) {
  return gateway.posted.filter((s) => {
    if (s.to !== to) return false;
    const ack = readSmsAck(s.text, key);
    return ack.ok && ack.value.stage === stage;
  });
}

const timelineOf = async (platform: TestPlatform, id: string) => ((await platform.api().get(`/alarms/${id}`).expect(200)).body as { timeline: TimelineEntry[] }).timeline;

let numbers = 0;
/** A button with a registered number, its SMS key, and a helper to build its texts. */
async function smsButton(platform: TestPlatform, cicId = 'cic-antwerpen') {
  const created = await platform.api().post('/cases', { homeCicId: cicId, riskLevel: 'high' }).expect(201);
  const msisdn = `+3247000${String(++numbers).padStart(4, '0')}`;
  const device = await platform.api().post('/devices', { caseId: created.body.id, msisdn }).expect(201);
  const { deviceId, secret } = device.body as { deviceId: string; secret: string };
  const key = smsKey(secret);
  const text = (press: Partial<AlarmMessage> & { seq: number }, signWith = key) => {
    const sealed = encodeSmsAlarm(deviceId, press, signWith);
    if (!sealed.ok) throw sealed.error;
    return sealed.value;
  };
  return { deviceId, secret, msisdn, key, text };
}

describe('the SMS path', () => {
  const env: Record<string, string> = { AMR_SMS_GATEWAY_TOKEN: GATEWAY_TOKEN };
  let gateway: FakeSmsGateway;
  beforeAll(async () => {
    gateway = await FakeSmsGateway.start();
    env.AMR_SMS_GATEWAY_URL = gateway.url; // read when the platform starts, in the next hook
  });
  const suite = usePlatform(env);
  afterAll(async () => gateway?.close());

  const inbound = (body: object, token = GATEWAY_TOKEN) =>
    suite.platform.http.post('/api/v1/sms/inbound').set('Authorization', `Bearer ${token}`).send(body);
  const alarm = async (id: string) => (await suite.platform.api().get(`/alarms/${id}`).expect(200)).body as { cicId: string; pressCount: number; timeline: TimelineEntry[] };
  const alarmsOf = async (deviceId: string) =>
    ((await suite.platform.api().get('/alarms').expect(200)).body as { deviceId: string }[]).filter((a) => a.deviceId === deviceId);

  it('stores, routes and answers by SMS a press with a valid MAC; the same press over MQTT is the same alarm', async () => {
    const { platform } = suite;
    const button = await smsButton(platform);
    const press = { seq: 1, ts: Math.floor(Date.now() / 1000), loc: { ...NAMUR, ts: Math.floor(Date.now() / 1000) } };

    const res = await inbound({ from: button.msisdn, text: button.text(press) }).expect(200);
    expect(res.body).toMatchObject({ ok: true, deviceId: button.deviceId, outcome: 'new', stage: 'received' });
    const alarmId = res.body.alarmId as string;

    // Answered by SMS to the registered number, with a MAC the button checks.
    const received = await gateway.ack(button.msisdn, button.key, (a) => a.stage === 'received');
    expect(received).toMatchObject({ seq: 1, alarm: alarmId, vib: 'short' });

    // Routed by its position like any press; the timeline says which path it and its ack took.
    const stored = await alarm(alarmId);
    expect(stored.cicId).toBe('cic-namur');
    expect(stored.timeline.find((t) => t.stage === 'received')).toMatchObject({ seq: 1, path: 'sms', acks: ['mqtt', 'sms'] });
    const smsAck = await eventually(async () => (await alarm(alarmId)).timeline.find((t) => t.event === 'ack'), (t) => t !== undefined);
    expect(smsAck).toMatchObject({ ack: 'received', path: 'sms', sent: true, attempts: 1 });

    // The button then gets a data connection and sends the same press over MQTT: the same alarm.
    const device = await TestDevice.connect(platform.mqttUrl, button.deviceId, button.secret);
    try {
      await device.press(press);
      const overMqtt = await device.stage('received', 1);
      expect(overMqtt.alarm).toBe(alarmId);
      const after = await alarm(alarmId);
      expect(after.pressCount).toBe(1);
      expect(after.timeline.find((t) => t.event === 'retransmission')).toMatchObject({ seq: 1, path: 'mqtt', acks: ['mqtt'] });
      expect(await alarmsOf(button.deviceId)).toHaveLength(1);
    } finally {
      await device.close();
    }
  });

  it('refuses, counts and stores nothing for a wrong MAC, a wrong sender, an unknown device, a bad text and a replayed press', async () => {
    const { platform } = suite;
    const button = await smsButton(platform);
    const other = await smsButton(platform);
    const metric = (reason: string) => platform.metric('amr_sms_refused_total', { reason });
    const before = Object.fromEntries(await Promise.all(['mac', 'sender', 'unknown-device', 'format', 'stale'].map(async (r) => [r, await metric(r)])));

    const wrongMac = await inbound({ from: button.msisdn, text: button.text({ seq: 1 }, smsKey('not-the-secret-of-this-button')) }).expect(403);
    expect(wrongMac.body.message).toMatch(/Wrong MAC/);
    const wrongSender = await inbound({ from: other.msisdn, text: button.text({ seq: 1 }) }).expect(403);
    expect(wrongSender.body.message).toMatch(/not the registered number/);
    const sealed = encodeSmsAlarm('btn-does-not-exist', { seq: 1 }, button.key);
    const unknown = await inbound({ from: button.msisdn, text: sealed.ok ? sealed.value : '' }).expect(404);
    expect(unknown.body.message).toMatch(/No device btn-does-not-exist/);
    const badText = await inbound({ from: button.msisdn, text: 'HELP ME' }).expect(400);
    expect(badText.body.message).toMatch(/Not an AMR1 press/);
    expect(await alarmsOf(button.deviceId)).toHaveLength(0);

    // A real press (seq 5), then texts that do not move past it: a lower seq never sent, and seq 5
    // again with another device time (a retransmission repeats the press exactly).
    const t = Math.floor(Date.now() / 1000);
    const first = await inbound({ from: button.msisdn, text: button.text({ seq: 5, ts: t }) }).expect(200);
    const replayed = await inbound({ from: button.msisdn, text: button.text({ seq: 3, ts: t }) }).expect(409);
    expect(replayed.body.message).toMatch(/not newer than its press 5/);
    await inbound({ from: button.msisdn, text: button.text({ seq: 5, ts: t - 3600 }) }).expect(409);
    // The genuine retransmission is the same press.
    const again = await inbound({ from: button.msisdn, text: button.text({ seq: 5, ts: t }) }).expect(200);
    expect(again.body).toMatchObject({ outcome: 'retransmission', alarmId: first.body.alarmId });
    expect(await alarmsOf(button.deviceId)).toHaveLength(1);
    expect((await alarm(first.body.alarmId)).pressCount).toBe(1);

    expect(await metric('mac')).toBe(before.mac + 1);
    expect(await metric('sender')).toBe(before.sender + 1);
    expect(await metric('unknown-device')).toBe(before['unknown-device'] + 1);
    expect(await metric('format')).toBe(before.format + 1);
    expect(await metric('stale')).toBe(before.stale + 2);
  });

  it('lets only the SMS gateway post, with its own token', async () => {
    const button = await smsButton(suite.platform);
    const body = { from: button.msisdn, text: button.text({ seq: 1 }) };
    await inbound(body, 'wrong-token-0123456789abcdef').expect(401);
    await suite.platform.http.post('/api/v1/sms/inbound').send(body).expect(401);
    await inbound(body, 'test-admin-token-0123456789abcdef').expect(401);
    await inbound({ from: '0470 12 34 56', text: body.text }).expect(400);
    expect(await alarmsOf(button.deviceId)).toHaveLength(0);
  });

  it("tells a button reachable only by SMS of the operator's accept, through a gateway that fails once", async () => {
    const { platform } = suite;
    const button = await smsButton(platform, 'cic-limburg');
    const res = await inbound({ from: button.msisdn, text: button.text({ seq: 1 }) }).expect(200);
    const alarmId = res.body.alarmId as string;
    await gateway.ack(button.msisdn, button.key, (a) => a.stage === 'received' && a.alarm === alarmId);

    gateway.failNext = 1; // a transient gateway error: the accepted stage must not be lost
    const failedBefore = gateway.refusedWith503;
    const token = await platform.integrationToken('cic-limburg');
    await platform.api(token).post(`/alarms/${alarmId}/accept`).expect(200);
    const accepted = await gateway.ack(button.msisdn, button.key, (a) => a.stage === 'accepted' && a.alarm === alarmId);
    expect(accepted).toMatchObject({ seq: 1, vib: 'double' });
    expect(gateway.refusedWith503).toBe(failedBefore + 1);

    const view = await alarm(alarmId);
    expect(view.timeline.find((t) => t.stage === 'accepted')).toMatchObject({ acks: ['mqtt', 'sms'] });
    await eventually(async () => (await alarm(alarmId)).timeline, (tl) => tl.some((t) => t.event === 'ack' && t.ack === 'accepted' && t.sent === true && t.attempts === 2));
  });

  it("sends a press's `received` once, through a gateway that fails the first attempts", async () => {
    const { platform } = suite;
    const button = await smsButton(platform);
    const failedBefore = gateway.refusedWith503;
    gateway.failNext = 2;
    const res = await inbound({ from: button.msisdn, text: button.text({ seq: 1 }) }).expect(200);
    const alarmId = res.body.alarmId as string;

    const received = await gateway.ack(button.msisdn, button.key, (a) => a.stage === 'received' && a.alarm === alarmId);
    expect(received).toMatchObject({ seq: 1, vib: 'short' });
    expect(gateway.refusedWith503).toBe(failedBefore + 2);
    // The outcome is recorded once, with the attempts it took; then the outbox is empty.
    const entries = await eventually(
      async () => (await timelineOf(platform, alarmId)).filter((t) => t.event === 'ack'),
      (acks) => acks.length > 0,
    );
    expect(entries).toEqual([expect.objectContaining({ ack: 'received', path: 'sms', sent: true, attempts: 3 })]);
    expect(await suite.db.query(`SELECT id FROM sms_outbox WHERE device_id = $1`, [button.deviceId])).toEqual([]);
    expect(postedAcks(gateway, button.msisdn, button.key, 'received')).toHaveLength(1);
    expect(await platform.metric('amr_sms_acks_total', { outcome: 'retried' })).toBeGreaterThanOrEqual(2);
  });

  it('gives a text up after its last attempt, once, and records that on the timeline', async () => {
    const { platform } = suite;
    const button = await smsButton(platform);
    const failedBefore = await platform.metric('amr_sms_acks_total', { outcome: 'failed' });
    const refusedBefore = gateway.refusedWith503;
    gateway.failNext = 1_000; // the gateway is down
    try {
      const res = await inbound({ from: button.msisdn, text: button.text({ seq: 1 }) }).expect(200);
      const alarmId = res.body.alarmId as string;
      await eventually(async () => gateway.refusedWith503, (n) => n > refusedBefore);
      // Skip the waits of a minute of retries: the text is due now, with five attempts behind it.
      await suite.db.query(`UPDATE sms_outbox SET attempts = 5, next_attempt_at = now() WHERE device_id = $1`, [button.deviceId]);
      const acks = await eventually(
        async () => (await timelineOf(platform, alarmId)).filter((t) => t.event === 'ack'),
        (entries) => entries.length > 0,
      );
      expect(acks).toEqual([expect.objectContaining({ ack: 'received', path: 'sms', sent: false, attempts: 6, error: 'HTTP 503' })]);
      expect(await platform.metric('amr_sms_acks_total', { outcome: 'failed' })).toBe(failedBefore + 1);
      expect(await suite.db.query(`SELECT id FROM sms_outbox WHERE device_id = $1`, [button.deviceId])).toEqual([]);
    } finally {
      gateway.failNext = 0;
    }
  });

  it('registers one number per device: at provisioning, in bulk, and by PATCH', async () => {
    const api = suite.platform.api();
    const { deviceId, msisdn } = await smsButton(suite.platform);
    expect((await api.get(`/devices/${deviceId}`).expect(200)).body.msisdn).toBe(msisdn);
    const taken = await api.post('/devices', { msisdn }).expect(409);
    expect(taken.body.message).toMatch(/already registered/);
    await api.patch(`/devices/${deviceId}`, { msisdn: '0470123456' }).expect(400);

    const batch = await api.post('/devices/batch', { count: 2, msisdns: ['+32471000001', '+32471000002'] }).expect(201);
    const [a, b] = batch.body as { deviceId: string }[];
    expect((await api.get(`/devices/${a!.deviceId}`).expect(200)).body.msisdn).toBe('+32471000001');
    await api.post('/devices/batch', { count: 2, msisdns: ['+32471000003'] }).expect(400);

    await api.patch(`/devices/${b!.deviceId}`, { msisdn: '+32471000001' }).expect(409);
    await api.patch(`/devices/${a!.deviceId}`, { msisdn: null }).expect(200);
    const moved = await api.patch(`/devices/${b!.deviceId}`, { msisdn: '+32471000001' }).expect(200);
    expect(moved.body.msisdn).toBe('+32471000001');
  });
});

/**
 * The SMS outbox outlives the process that wrote it: a text due when the platform stops is sent,
 * once, by the next platform on the same database.
 */
describe('the SMS outbox across a restart', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'amr-sms-restart-'));
  const reopen = () => openDatabase({ url: process.env.TEST_DATABASE_URL || undefined, dataDir });
  let gateway: FakeSmsGateway;
  beforeAll(async () => {
    gateway = await FakeSmsGateway.start();
  });
  afterAll(async () => {
    await gateway?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('sends a text that was due when the platform stopped, once, from the next platform', async () => {
    const env = { AMR_SMS_GATEWAY_TOKEN: GATEWAY_TOKEN, AMR_SMS_GATEWAY_URL: gateway.url };
    // First life: the press is stored, its `received` text fails at the gateway and waits for a retry.
    let db = await openTestDatabase(dataDir);
    let platform = await startTestPlatform(db, env);
    const button = await smsButton(platform);
    gateway.failNext = 1_000;
    const res = await platform.http
      .post('/api/v1/sms/inbound')
      .set('Authorization', `Bearer ${GATEWAY_TOKEN}`)
      .send({ from: button.msisdn, text: button.text({ seq: 1 }) })
      .expect(200);
    const alarmId = res.body.alarmId as string;
    await eventually(async () => gateway.refusedWith503, (n) => n > 0);
    await platform.close();
    await closeDatabase(db);
    expect(postedAcks(gateway, button.msisdn, button.key, 'received')).toHaveLength(0);

    // Second life, from what is on disk (or in PostgreSQL), with the gateway back.
    gateway.failNext = 0;
    db = await reopen();
    platform = await startTestPlatform(db, env);
    try {
      const received = await gateway.ack(button.msisdn, button.key, (a) => a.stage === 'received' && a.alarm === alarmId);
      expect(received).toMatchObject({ seq: 1, vib: 'short' });
      const acks = await eventually(
        async () => (await timelineOf(platform, alarmId)).filter((t) => t.event === 'ack'),
        (entries) => entries.length > 0,
      );
      expect(acks).toEqual([expect.objectContaining({ ack: 'received', path: 'sms', sent: true })]);
      expect(acks[0]!.attempts).toBeGreaterThanOrEqual(2);
      expect(await db.query(`SELECT id FROM sms_outbox`)).toEqual([]);
      expect(postedAcks(gateway, button.msisdn, button.key, 'received')).toHaveLength(1);
    } finally {
      await platform.close();
      await closeDatabase(db);
    }
  }, BOOT_TIMEOUT_MS);
});

/** Several nodes on one database share the outbox: every text is posted once, whichever node claims it. */
describe('the SMS outbox on two nodes', () => {
  let gateway: FakeSmsGateway;
  let db: Awaited<ReturnType<typeof openTestDatabase>>;
  const nodes: TestPlatform[] = [];
  beforeAll(async () => {
    gateway = await FakeSmsGateway.start();
    db = await openTestDatabase();
    const env = { AMR_SMS_GATEWAY_TOKEN: GATEWAY_TOKEN, AMR_SMS_GATEWAY_URL: gateway.url };
    nodes.push(await startTestPlatform(db, { ...env, AMR_NODE_ID: 'sms-node-a' }));
    nodes.push(await startTestPlatform(db, { ...env, AMR_NODE_ID: 'sms-node-b' }));
  }, BOOT_TIMEOUT_MS);
  afterAll(async () => {
    for (const node of nodes) await node.close();
    if (db) await closeDatabase(db);
    await gateway?.close();
  }, BOOT_TIMEOUT_MS);

  it('posts each text once while both nodes send and retry', async () => {
    const buttons = [];
    for (let i = 0; i < 6; i++) buttons.push(await smsButton(nodes[0]!));
    gateway.failNext = 4; // the first posts fail: their retries are claimed by either node
    const alarmIds = await Promise.all(
      buttons.map(async (button, i) => {
        const res = await nodes[i % 2]!.http
          .post('/api/v1/sms/inbound')
          .set('Authorization', `Bearer ${GATEWAY_TOKEN}`)
          .send({ from: button.msisdn, text: button.text({ seq: 1 }) })
          .expect(200);
        return res.body.alarmId as string;
      }),
    );
    for (const [i, button] of buttons.entries()) {
      await gateway.ack(button.msisdn, button.key, (a) => a.stage === 'received' && a.alarm === alarmIds[i]);
    }
    await eventually(async () => (await db.query(`SELECT id FROM sms_outbox`)) as unknown[], (rows) => rows.length === 0, 10_000);
    for (const [i, button] of buttons.entries()) {
      expect(postedAcks(gateway, button.msisdn, button.key, 'received')).toHaveLength(1);
      const acks = (await timelineOf(nodes[0]!, alarmIds[i]!)).filter((t) => t.event === 'ack');
      expect(acks).toEqual([expect.objectContaining({ ack: 'received', sent: true })]);
    }
    expect(gateway.refusedWith503).toBe(4);
  });
});

/**
 * A crash at any moment loses no text: the platform is killed (SIGKILL) with a press's `received`
 * text due and failing at the gateway; the next platform on the same database sends it, once.
 * (PostgreSQL only: two processes share the database.)
 */
(process.env.TEST_DATABASE_URL ? describe : describe.skip)('the SMS outbox across a crash', () => {
  const postgresUrl = process.env.TEST_DATABASE_URL!;
  let gateway: FakeSmsGateway;
  let db: Awaited<ReturnType<typeof openTestDatabase>>;
  beforeAll(async () => {
    gateway = await FakeSmsGateway.start();
    db = await openTestDatabase();
  }, BOOT_TIMEOUT_MS);
  afterAll(async () => {
    if (db) await closeDatabase(db);
    await gateway?.close();
  }, BOOT_TIMEOUT_MS);

  it('sends a text that was due when the platform was killed, once, from the next platform', async () => {
    const [mqttPort, httpPort] = [await freePort(), await freePort()];
    const env = {
      DATABASE_URL: postgresUrl,
      MQTT_HOST: '127.0.0.1',
      MQTT_PORT: String(mqttPort),
      HTTP_HOST: '127.0.0.1',
      HTTP_PORT: String(httpPort),
      AMR_ADMIN_TOKEN: ADMIN_TOKEN,
      AMR_NODE_ID: 'sms-crash-test',
      AMR_SMS_GATEWAY_TOKEN: GATEWAY_TOKEN,
      AMR_SMS_GATEWAY_URL: gateway.url,
    };
    const child = await ChildApp.spawn(MAINS.platform, env).until((a) => a.output.includes('is running'), 'platform start-up');
    let platform: TestPlatform | undefined;
    try {
      const call = async (path: string, token: string, body: object) => {
        const res = await fetch(`http://127.0.0.1:${httpPort}/api/v1${path}`, {
          method: 'POST',
          headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
          body: JSON.stringify(body),
        });
        return { status: res.status, body: (await res.json()) as Record<string, string> };
      };
      const msisdn = '+32470999001';
      const { body: created } = await call('/cases', ADMIN_TOKEN, { homeCicId: 'cic-antwerpen', riskLevel: 'high' });
      const { body: device } = await call('/devices', ADMIN_TOKEN, { caseId: created.id!, msisdn });
      const key = smsKey(device.secret!);
      const sealed = encodeSmsAlarm(device.deviceId!, { seq: 1 }, key);
      if (!sealed.ok) throw sealed.error;

      gateway.failNext = 1_000; // the gateway is down while the press comes in
      const press = await call('/sms/inbound', GATEWAY_TOKEN, { from: msisdn, text: sealed.value });
      expect(press.status).toBe(200);
      const alarmId = press.body.alarmId!;
      await eventually(async () => gateway.refusedWith503, (n) => n > 0, 10_000);
      await child.kill('SIGKILL');
      expect(postedAcks(gateway, msisdn, key, 'received')).toHaveLength(0);

      // The next platform on the same database, with the gateway back.
      gateway.failNext = 0;
      platform = await startTestPlatform(db, { AMR_SMS_GATEWAY_TOKEN: GATEWAY_TOKEN, AMR_SMS_GATEWAY_URL: gateway.url });
      // Due after its retry delay, or after the lease if the kill came between a claim and its outcome.
      const received = await gateway.ack(msisdn, key, (a) => a.stage === 'received' && a.alarm === alarmId, 30_000);
      expect(received).toMatchObject({ seq: 1, vib: 'short' });
      const acks = await eventually(
        async () => (await timelineOf(platform!, alarmId)).filter((t) => t.event === 'ack'),
        (entries) => entries.length > 0,
      );
      expect(acks).toEqual([expect.objectContaining({ ack: 'received', path: 'sms', sent: true })]);
      expect(await db.query(`SELECT id FROM sms_outbox`)).toEqual([]);
      expect(postedAcks(gateway, msisdn, key, 'received')).toHaveLength(1);
    } finally {
      await child.kill('SIGKILL');
      await platform?.close();
    }
  }, BOOT_TIMEOUT_MS);
});
