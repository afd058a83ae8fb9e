import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { encodeSmsAlarm, smsKey, type AlarmMessage } from '@amr/protocol';
import { usePlatform, type TestPlatform } from './support/platform.js';
import { TestDevice } from './support/device.js';
import { FakeSmsGateway } from './support/sms-gateway.js';
import { eventually } from './support/eventually.js';

const GATEWAY_TOKEN = 'test-sms-gateway-token-0123456789';
const NAMUR = { lat: 50.4674, lon: 4.872, acc: 15, src: 'gnss' as const };

type TimelineEntry = { stage?: string; event?: string; [key: string]: unknown };

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
