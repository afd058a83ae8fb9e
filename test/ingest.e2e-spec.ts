import { describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { deviceTopic, encodePayload } from '@amr/protocol';
import { usePlatform } from './support/platform.js';
import { TestDevice, connectClient } from './support/device.js';
import { countsBy, histogramCount } from './support/metrics.js';
import { eventually } from './support/eventually.js';

/** Messages a device may have queued at the ingest, the one in progress included; past it, it is flooding. */
const DEVICE_QUEUE_BOUND = 32;

const postgresUrl = process.env.TEST_DATABASE_URL || undefined;
/** Suites that need a second database session (a lock held from outside) run on PostgreSQL only. */
const onPostgres = postgresUrl ? it : it.skip;

/** `count` new devices, provisioned and connected. */
function connectDevices(suite: ReturnType<typeof usePlatform>, count: number): Promise<TestDevice[]> {
  return Promise.all(
    Array.from({ length: count }, async () => {
      const { deviceId, secret } = await suite.platform.provision();
      return TestDevice.connect(suite.platform.mqttUrl, deviceId, secret);
    }),
  );
}

describe('the ingest: every device on its own lane, presses committed together', () => {
  const suite = usePlatform();

  it('stores presses that arrive together in shared transactions, each its own alarm', async () => {
    const devices = await connectDevices(suite, 40);
    try {
      const before = await histogramCount(suite, 'amr_press_batch_size');
      await Promise.all(devices.map((d) => d.press({ seq: 1 })));
      const acks = await Promise.all(devices.map((d) => d.stage('received', 1)));
      expect(new Set(acks.map((a) => a.alarm)).size).toBe(40);
      const after = await histogramCount(suite, 'amr_press_batch_size');
      expect(after.sum - before.sum).toBe(40);
      // fewer transactions than presses: some were committed together
      expect(after.count - before.count).toBeLessThan(40);
    } finally {
      await Promise.all(devices.map((d) => d.close()));
    }
  });

  it('times every step of the press transactions (amr_press_step_seconds): a wait per press, each statement once per batch', async () => {
    const devices = await connectDevices(suite, 12);
    try {
      const steps = await countsBy(suite, 'amr_press_step_seconds', 'step');
      const batches = await histogramCount(suite, 'amr_press_batch_size');
      await Promise.all(devices.map((d) => d.press({ seq: 1 })));
      await Promise.all(devices.map((d) => d.stage('received', 1)));
      const after = await countsBy(suite, 'amr_press_step_seconds', 'step');
      // on PostgreSQL BEGIN travels with the lookup and COMMIT with the write ('begin + press-lookup')
      const delta = (step: string) =>
        [...after.keys()].filter((label) => label.split(' + ').includes(step)).reduce((sum, label) => sum + after.get(label)! - (steps.get(label) ?? 0), 0);
      const batched = (await histogramCount(suite, 'amr_press_batch_size')).count - batches.count;
      // every transaction takes one connection: the batches, and any press stored alone because its
      // device was locked by another transaction at that moment (its lookup then waits: press-lookup-wait)
      const transactions = delta('connection');
      expect(batched).toBeGreaterThan(0);
      expect(transactions).toBeGreaterThanOrEqual(batched);
      expect(transactions).toBeLessThanOrEqual(batched + 12);
      expect(delta('queued')).toBe(12);
      expect(delta('press-lookup') + delta('press-lookup-wait')).toBe(transactions);
      for (const step of ['begin', 'press-write', 'commit']) expect([step, delta(step)]).toEqual([step, transactions]);
    } finally {
      await Promise.all(devices.map((d) => d.close()));
    }
  });

  it("keeps one device's presses in order, even sent without waiting", async () => {
    const { deviceId, secret } = await suite.platform.provision();
    const device = await TestDevice.connect(suite.platform.mqttUrl, deviceId, secret);
    try {
      await Promise.all(Array.from({ length: 10 }, (_, i) => device.press({ seq: i + 1 })));
      await device.stage('received', 10);
      const received = device.acks.filter((a) => a.stage === 'received');
      expect(received.map((a) => a.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      expect(new Set(received.map((a) => a.alarm)).size).toBe(1);
      const view = (await suite.platform.api().get(`/alarms/${received[0]!.alarm}`).expect(200)).body;
      expect(view.pressCount).toBe(10);
      const counts = view.timeline.filter((e: { event?: string }) => e.event === 'press').map((e: { pressCount: number }) => e.pressCount);
      expect(counts).toEqual([2, 3, 4, 5, 6, 7, 8, 9, 10]);
    } finally {
      await device.close();
    }
  });

  onPostgres('answers other devices while one device is held up in the database', async () => {
    const held = await suite.platform.provision();
    const other = await suite.platform.provision();
    const heldDevice = await TestDevice.connect(suite.platform.mqttUrl, held.deviceId, held.secret);
    const otherDevice = await TestDevice.connect(suite.platform.mqttUrl, other.deviceId, other.secret);
    const lock = new pg.Client({ connectionString: postgresUrl });
    await lock.connect();
    try {
      // Another session (another node, say) holds the first device's row.
      await lock.query('BEGIN');
      await lock.query('SELECT id FROM devices WHERE id = $1 FOR UPDATE', [held.deviceId]);
      // Its PUBACK waits for the commit: do not wait for it here.
      heldDevice.client.publish(deviceTopic(held.deviceId, 'alarm'), encodePayload({ seq: 1 }, 'cbor'), { qos: 1 });
      for (let seq = 1; seq <= 3; seq++) {
        await otherDevice.press({ seq });
        await otherDevice.stage('received', seq, 3000);
      }
      expect(heldDevice.acks).toEqual([]);
      await lock.query('COMMIT');
      expect((await heldDevice.stage('received', 1)).alarm).toBeTruthy();
    } finally {
      await lock.end();
      await heldDevice.close();
      await otherDevice.close();
    }
  });

  it('cuts off a device flooding alarms, reports it to its CIC, and keeps answering the others', async () => {
    const flooder = await suite.platform.provision('cic-oost-vlaanderen');
    const calm = await suite.platform.provision();
    const flooding = await TestDevice.connect(suite.platform.mqttUrl, flooder.deviceId, flooder.secret);
    const device = await TestDevice.connect(suite.platform.mqttUrl, calm.deviceId, calm.secret);
    const oostVlaanderen = await suite.platform.integrationToken('cic-oost-vlaanderen');
    try {
      const closed = new Promise<void>((resolve) => flooding.client.once('close', () => resolve()));
      // 2,000 presses written at once, none waiting for its PUBACK: no button does that.
      for (let seq = 1; seq <= 2000; seq++) {
        flooding.client.publish(deviceTopic(flooder.deviceId, 'alarm'), encodePayload({ seq }, 'cbor'), { qos: 1 }, () => undefined);
      }
      for (let seq = 1; seq <= 20; seq++) {
        await device.press({ seq });
        await device.stage('received', seq, 5000);
      }
      await closed;
      expect(await suite.platform.metric('amr_devices_flooding_total')).toBeGreaterThanOrEqual(1);
      // The presses as the platform stored them, in order (ids are handed out as rows are written).
      const stored: { id: number; device_id: string }[] = await suite.db.query(
        'SELECT id, device_id FROM alarm_presses WHERE device_id = ANY($1) ORDER BY id',
        [[flooder.deviceId, calm.deviceId]],
      );
      const flood = stored.filter((p) => p.device_id === flooder.deviceId);
      // The flood is refused at the device's queue bound, and what it had queued is dropped, not
      // stored for a connection that is gone: only what was being stored when it was cut off.
      expect(flood.length).toBeGreaterThanOrEqual(1);
      expect(flood.length).toBeLessThan(DEVICE_QUEUE_BOUND / 4);
      // Its refusals are counted (those past the bound and those dropped from its queue alike).
      expect(await suite.platform.metric('amr_device_messages_rejected_total', { channel: 'alarm', code: 'flooding' })).toBeGreaterThanOrEqual(DEVICE_QUEUE_BOUND - 1);

      // The flooding device's case's CIC is told, once, by a technical alert.
      let alerts: { deviceId: string; type: string }[] = [];
      for (let i = 0; i < 50 && !alerts.some((a) => a.deviceId === flooder.deviceId); i++) {
        alerts = (await suite.platform.api(oostVlaanderen).get('/alerts?state=open').expect(200)).body;
        if (!alerts.some((a) => a.deviceId === flooder.deviceId)) await new Promise((r) => setTimeout(r, 100));
      }
      expect(alerts.filter((a) => a.deviceId === flooder.deviceId).map((a) => a.type)).toEqual(['flooding']);
    } finally {
      await flooding.close();
      await device.close();
    }
  });

  it('takes a handful of unacknowledged presses from a real button without calling it a flood', async () => {
    const { deviceId, secret } = await suite.platform.provision();
    const device = await TestDevice.connect(suite.platform.mqttUrl, deviceId, secret);
    try {
      for (let seq = 1; seq <= 5; seq++) device.client.publish(deviceTopic(deviceId, 'alarm'), encodePayload({ seq }, 'cbor'), { qos: 1 });
      await device.stage('received', 5);
      expect(device.acks.filter((a) => a.stage === 'received').map((a) => a.seq)).toEqual([1, 2, 3, 4, 5]);
      expect(device.client.connected).toBe(true);
    } finally {
      await device.close();
    }
  });

  it('replays the alarm stage at most once every few seconds however often a device subscribes', async () => {
    const { deviceId, secret } = await suite.platform.provision();
    const device = await TestDevice.connect(suite.platform.mqttUrl, deviceId, secret);
    try {
      await device.press({ seq: 1 });
      const { alarm } = await device.stage('received', 1);
      await suite.platform.api().post(`/alarms/${alarm}/accept`).expect(200);
      await device.stage('accepted');
      const acceptedBefore = device.acks.filter((a) => a.stage === 'accepted').length;
      const started = Date.now();
      await Promise.all(Array.from({ length: 500 }, () => device.client.subscribeAsync(deviceTopic(deviceId, 'ack'), { qos: 1 })));
      // Let a full interval and its trailing reminder pass.
      await new Promise((r) => setTimeout(r, 4500));
      const reminders = device.acks.filter((a) => a.stage === 'accepted').length - acceptedBefore;
      const elapsedS = (Date.now() - started) / 1000;
      expect(reminders).toBeGreaterThanOrEqual(1); // the device is still told
      expect(reminders).toBeLessThanOrEqual(Math.ceil(elapsedS / 2) + 1); // REMINDER_INTERVAL_MS = 2 s
      expect(await suite.platform.metric('amr_device_reminders_skipped_total')).toBeGreaterThan(400);
    } finally {
      await device.close();
    }
  });

  it('tells a device that lost its session how its last press ended (accepted, then closed), for ten minutes after the close', async () => {
    const { deviceId, secret } = await suite.platform.provision();
    const first = await TestDevice.connect(suite.platform.mqttUrl, deviceId, secret);
    await first.press({ seq: 1 });
    const { alarm } = await first.stage('received', 1);
    await first.close();
    // worked and closed while the device is away; its next session is a new one (nothing queued)
    await suite.platform.api().post(`/alarms/${alarm}/accept`).expect(200);
    await suite.platform.api().post(`/alarms/${alarm}/close`, { outcome: 'false alarm' }).expect(200);
    const back = await TestDevice.connect(suite.platform.mqttUrl, deviceId, secret);
    try {
      const told = await back.stage('closed');
      expect(told).toMatchObject({ alarm, seq: 1 });
      // how it ended: taken by the police, then over — in that order, and nothing else
      expect(back.acks.map((a) => [a.stage, a.alarm])).toEqual([['accepted', alarm], ['closed', alarm]]);
    } finally {
      await back.close();
    }
    // long after the close, a new session hears nothing of it
    await suite.db.query(`UPDATE alarms SET closed_at = now() - interval '11 minutes' WHERE id = $1`, [alarm]);
    const later = await TestDevice.connect(suite.platform.mqttUrl, deviceId, secret);
    try {
      await later.client.subscribeAsync(deviceTopic(deviceId, 'ack'), { qos: 1 });
      await new Promise((r) => setTimeout(r, 2500)); // a reminder interval and its trailing reminder
      expect(later.acks).toEqual([]);
    } finally {
      await later.close();
    }
  });

  it('reminds a device that resumes its persistent session without subscribing again', async () => {
    const { deviceId, secret } = await suite.platform.provision();
    const first = await TestDevice.connect(suite.platform.mqttUrl, deviceId, secret, { clean: false });
    await first.press({ seq: 1 });
    const { alarm } = await first.stage('received', 1);
    await suite.platform.api().post(`/alarms/${alarm}/accept`).expect(200);
    await first.stage('accepted'); // heard live and acknowledged: nothing stays queued for the session
    await first.close();

    const back = await TestDevice.resume(suite.platform.mqttUrl, deviceId, secret);
    try {
      expect(back.sessionPresent).toBe(true);
      // No SUBSCRIBE and an empty queue: only the reminder can tell it the stage again.
      const told = await back.stage('accepted');
      expect(told).toMatchObject({ alarm, seq: 1 });
    } finally {
      await back.close();
    }
  });

  it('counts a repeated press instead of growing the timeline, and keeps the alarm small', async () => {
    const { deviceId, secret } = await suite.platform.provision();
    const device = await TestDevice.connect(suite.platform.mqttUrl, deviceId, secret);
    try {
      const batched = await histogramCount(suite, 'amr_press_batch_size');
      for (let i = 0; i < 10; i++) {
        await device.press({ seq: 7, ts: 1_790_000_000 });
      }
      // the press and its first three copies went to the database; the six after were answered from memory
      expect((await histogramCount(suite, 'amr_press_batch_size')).sum - batched.sum).toBe(4);
      await device.ack((a) => a.stage === 'received' && device.acks.filter((x) => x.stage === 'received').length === 10);
      const ids = new Set(device.acks.filter((a) => a.stage === 'received').map((a) => a.alarm));
      expect(ids.size).toBe(1);
      const [alarm] = [...ids];
      for (let seq = 8; seq < 8 + 40; seq++) await device.press({ seq, loc: { lat: 51.2, lon: 4.4, acc: 10 } });
      await device.stage('received', 47);

      // copies past the timeline's three are answered from memory and counted within a second
      const view = await eventually(
        async () => (await suite.platform.api().get(`/alarms/${alarm}`).expect(200)).body,
        (v) => v.retransmissions === 9,
      );
      expect(view).toMatchObject({ pressCount: 41, retransmissions: 9, positionCount: 40 });
      const events = view.timeline.map((e: { event?: string; stage?: string }) => e.event ?? e.stage);
      expect(events.filter((e: string) => e === 'retransmission')).toHaveLength(3);
      expect(events.filter((e: string) => e === 'press')).toHaveLength(19); // presses 2 … 20
      expect(view.positions.length).toBeLessThanOrEqual(50);
      const evidence = (await suite.platform.api().get(`/alarms/${alarm}/evidence`).expect(200)).body;
      expect(evidence.verification.valid).toBe(true);
      const presses = await suite.db.query('SELECT count(*)::int AS n FROM alarm_presses WHERE device_id = $1', [deviceId]);
      expect(presses[0].n).toBe(41);
    } finally {
      await device.close();
    }
  });

  it('answers copies of a press sent before its answer with the first copy\'s outcome, storing it once', async () => {
    const { deviceId, secret } = await suite.platform.provision();
    const device = await TestDevice.connect(suite.platform.mqttUrl, deviceId, secret);
    try {
      const joinedBefore = await suite.platform.metric('amr_device_messages_joined_total', { channel: 'alarm' });
      // Five copies written at once, as a button retransmitting and its client resending on reconnect.
      await Promise.all(Array.from({ length: 5 }, () => device.press({ seq: 3, ts: 1_790_000_100 })));
      const { alarm } = await device.stage('received', 3);
      const joined = (await suite.platform.metric('amr_device_messages_joined_total', { channel: 'alarm' })) - joinedBefore;
      const view = (await suite.platform.api().get(`/alarms/${alarm}`).expect(200)).body;
      expect(view.pressCount).toBe(1);
      // every copy was either answered with the first one's outcome or found stored (a retransmission)
      expect(joined).toBeGreaterThanOrEqual(1);
      expect(joined + view.retransmissions).toBe(4);
      const presses = await suite.db.query('SELECT count(*)::int AS n FROM alarm_presses WHERE device_id = $1', [deviceId]);
      expect(presses[0].n).toBe(1);
    } finally {
      await device.close();
    }
  });

  it('refuses a retained publish, answers it, and never keeps it', async () => {
    const { deviceId, secret } = await suite.platform.provision();
    const device = await TestDevice.connect(suite.platform.mqttUrl, deviceId, secret);
    try {
      await device.client.publishAsync(deviceTopic(deviceId, 'alarm'), encodePayload({ seq: 1 }, 'json'), { qos: 1, retain: true });
      const rejected = await device.stage('rejected');
      expect(rejected.reason).toMatch(/retain/);
      expect(await suite.platform.metric('amr_mqtt_publish_refused_total', { reason: 'retained' })).toBe(1);
      const alarms = (await suite.platform.api().get('/alarms').expect(200)).body as { deviceId: string }[];
      expect(alarms.filter((a) => a.deviceId === deviceId)).toHaveLength(0);
      // Nothing was retained: a new subscriber to every alarm topic is handed no stored message.
      const { username, password } = suite.platform.running.config.internal;
      const observer = await connectClient(suite.platform.mqttUrl, { clientId: `${username}:observer`, username, password });
      const replayed: string[] = [];
      observer.on('message', (topic) => replayed.push(topic));
      await observer.subscribeAsync('amr/v1/dev/+/alarm', { qos: 1 });
      await new Promise((r) => setTimeout(r, 300));
      await observer.endAsync();
      expect(replayed).toEqual([]);
      expect(device.client.connected).toBe(true);
      await device.press({ seq: 2 });
      await device.stage('received', 2);
    } finally {
      await device.close();
    }
  });
});
