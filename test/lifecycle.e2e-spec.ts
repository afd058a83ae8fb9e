import { describe, expect, it } from '@jest/globals';
import { deviceTopic, parseCmd, type CmdMessage } from '@amr/protocol';
import { usePlatform } from './support/platform.js';
import { TestDevice } from './support/device.js';
import { SseClient } from './support/sse.js';
import { eventually } from './support/eventually.js';

const NAMUR = { lat: 50.4674, lon: 4.872, acc: 15, src: 'gnss' };
const steps = (view: { timeline: { stage?: string; event?: string }[] }) => view.timeline.map((t) => t.stage ?? t.event);

/** Collects the commands a button receives on its cmd topic. */
async function listenForCommands(device: TestDevice): Promise<CmdMessage[]> {
  const received: CmdMessage[] = [];
  await device.client.subscribeAsync(deviceTopic(device.id, 'cmd'), { qos: 1 });
  device.client.on('message', (topic, payload) => {
    if (topic !== deviceTopic(device.id, 'cmd')) return;
    const parsed = parseCmd(payload);
    if (parsed.ok) received.push(parsed.message);
  });
  return received;
}

describe('the alarm lifecycle', () => {
  const suite = usePlatform();

  it('routes by position to the CIC whose area holds it, and gives the home CIC an informational copy', async () => {
    const { platform } = suite;
    const antwerpen = await platform.integrationToken('cic-antwerpen');
    const namur = await platform.integrationToken('cic-namur');
    const homeStream = new SseClient(`${platform.httpUrl}/api/v1/events`, antwerpen);
    await homeStream.opened;
    const { deviceId, secret } = await platform.provision('cic-antwerpen');
    const device = await TestDevice.connect(platform.mqttUrl, deviceId, secret);
    try {
      await device.press({ seq: 1, ts: Math.floor(Date.now() / 1000), loc: { ...NAMUR, ts: Math.floor(Date.now() / 1000) } });
      const { alarm } = await device.stage('received', 1);
      const view = (await platform.api(namur).get(`/alarms/${alarm}`).expect(200)).body;
      expect(view).toMatchObject({ cicId: 'cic-namur', homeCicId: 'cic-antwerpen' });
      expect(view.timeline.find((t: { event?: string }) => t.event === 'routed')).toMatchObject({
        cicId: 'cic-namur',
        reason: 'position',
        homeCicId: 'cic-antwerpen',
        position: { lat: NAMUR.lat, lon: NAMUR.lon, acc: 15, src: 'gnss' },
      });
      // The home CIC sees it on its stream and through the API, but cannot act on it.
      await homeStream.next((e) => e.event === 'alarm.received' && e.data.id === alarm);
      await platform.api(antwerpen).get(`/alarms/${alarm}`).expect(200);
      const refused = await platform.api(antwerpen).post(`/alarms/${alarm}/accept`).expect(403);
      expect(refused.body.message).toMatch(/informational copy/);
      await platform.api(namur).post(`/alarms/${alarm}/accept`).expect(200);
      await device.stage('accepted');
    } finally {
      homeStream.close();
      await device.close();
    }
  });

  it.each([
    ['no position', {}, 'no-position'],
    ['a position 50 km uncertain', { loc: { ...NAMUR, acc: 50_000 } }, 'inaccurate-position'],
    ['a position two hours old', { ts: 1_790_007_200, loc: { ...NAMUR, ts: 1_790_000_000 } }, 'stale-position'],
    ['a position in Paris', { loc: { lat: 48.8566, lon: 2.3522, acc: 10 } }, 'outside-every-area'],
  ])('routes a press with %s to the home CIC and says why', async (_name, fields, fallback) => {
    const { deviceId, secret } = await suite.platform.provision('cic-limburg');
    const device = await TestDevice.connect(suite.platform.mqttUrl, deviceId, secret);
    try {
      await device.press({ seq: 1, ...fields });
      const { alarm } = await device.stage('received', 1);
      const view = (await suite.platform.api().get(`/alarms/${alarm}`).expect(200)).body;
      expect(view).toMatchObject({ cicId: 'cic-limburg', homeCicId: null });
      expect(view.timeline.find((t: { event?: string }) => t.event === 'routed')).toMatchObject({ cicId: 'cic-limburg', reason: 'home-cic', fallback });
    } finally {
      await device.close();
    }
  });

  it('asks for live positions while the alarm is open, streams them in device-time order, and stops them on close', async () => {
    const { platform } = suite;
    const token = await platform.integrationToken('cic-hainaut');
    const stream = new SseClient(`${platform.httpUrl}/api/v1/events`, token);
    await stream.opened;
    const { deviceId, secret } = await platform.provision('cic-hainaut');
    const device = await TestDevice.connect(platform.mqttUrl, deviceId, secret);
    const commands = await listenForCommands(device);
    try {
      await device.press({ seq: 1 });
      const { alarm } = await device.stage('received', 1);
      await eventually(async () => commands, (c) => c.some((m) => m.cmd === 'config' && m.locEvery === 15));

      // Sent out of order: the later fix first.
      await device.publishRaw('loc', Buffer.from(JSON.stringify({ seq: 2, lat: 50.46, lon: 3.96, acc: 8, ts: 1_790_000_030, src: 'gnss' })));
      await device.publishRaw('loc', Buffer.from(JSON.stringify({ seq: 1, lat: 50.45, lon: 3.95, acc: 9, ts: 1_790_000_015, src: 'gnss' })));
      await stream.next((e) => e.event === 'alarm.position' && e.data.alarmId === alarm && e.data.seq === 1);
      expect(stream.events.filter((e) => e.event === 'alarm.position').map((e) => e.data.seq)).toEqual([2, 1]);
      const view = (await platform.api(token).get(`/alarms/${alarm}`).expect(200)).body;
      expect(view.positions.map((p: { ts: number }) => p.ts)).toEqual([1_790_000_015, 1_790_000_030]);

      await platform.api(token).post(`/alarms/${alarm}/close`, { outcome: 'resolved' }).expect(200);
      await device.stage('closed');
      await eventually(async () => commands, (c) => c.some((m) => m.cmd === 'config' && m.locEvery === 0));
    } finally {
      stream.close();
      await device.close();
    }
  });

  it('sends an undelivered alarm to an integration as soon as it connects; it is delivered when the integration confirms it', async () => {
    const { platform } = suite;
    const { deviceId, secret } = await platform.provision('cic-west-vlaanderen');
    const device = await TestDevice.connect(platform.mqttUrl, deviceId, secret);
    try {
      await device.press({ seq: 1 });
      const { alarm } = await device.stage('received', 1);
      expect((await platform.api().get(`/alarms/${alarm}`).expect(200)).body.deliveredAt).toBeNull();

      const token = await platform.integrationToken('cic-west-vlaanderen');
      const stream = new SseClient(`${platform.httpUrl}/api/v1/events`, token);
      try {
        await stream.next((e) => e.event === 'alarm.received' && e.data.id === alarm);
        // Written to the stream is sent, not delivered: the integration may never have read it.
        const reads = await eventually(() => suite.db.query(`SELECT via FROM case_reads WHERE alarm_id = $1`, [alarm]), (r) => r.length > 0);
        expect((await platform.api().get(`/alarms/${alarm}`).expect(200)).body.deliveredAt).toBeNull();

        // Only an integration of the responsible CIC confirms delivery.
        const admin = await platform.api().post(`/alarms/${alarm}/delivered`).expect(403);
        expect(admin.body.message).toMatch(/integration/);
        await platform.api(await platform.integrationToken('cic-limburg')).post(`/alarms/${alarm}/delivered`).expect(404);

        const confirmed = await platform.api(token).post(`/alarms/${alarm}/delivered`).expect(200);
        expect(confirmed.body).toMatchObject({ id: alarm, stage: 'received', deliveredAt: expect.any(String) });
        await platform.api(token).post(`/alarms/${alarm}/delivered`).expect(200); // idempotent
        const view = (await platform.api().get(`/alarms/${alarm}`).expect(200)).body;
        expect(view.timeline.filter((t: { event?: string }) => t.event === 'delivered')).toEqual([
          expect.objectContaining({ via: 'confirmation', cicId: 'cic-west-vlaanderen' }),
        ]);
        // The delivery's entry is chained after the alarm's last one (read under its lock).
        const evidence = (await platform.api().get(`/alarms/${alarm}/evidence`).expect(200)).body;
        expect(evidence.verification).toMatchObject({ valid: true, entries: 3 });
        expect(evidence.timeline[2]).toMatchObject({ type: 'delivered', prevHash: evidence.timeline[1].hash });
        // Delivered when the integration confirmed it, counted from the alarm's receipt; no later stage yet.
        expect(view.serviceLevels.deliveredS).toBeCloseTo((Date.parse(view.deliveredAt) - Date.parse(view.receivedAt)) / 1000, 3);
        expect(Date.parse(view.deliveredAt)).toBe(Date.parse(confirmed.body.deliveredAt));
        expect(view.serviceLevels).toMatchObject({ acceptedS: null, dispatchedS: null, closedS: null });
        // Giving the integration the alarm gave it the case: that read is on record.
        expect(reads.map((r: { via: string }) => r.via)).toContain('sse');
      } finally {
        stream.close();
      }
    } finally {
      await device.close();
    }
  });

  it('takes a self-test the whole way, never dispatches it, and closes it once delivered', async () => {
    const { platform } = suite;
    const { deviceId, secret } = await platform.provision('cic-liege');
    const device = await TestDevice.connect(platform.mqttUrl, deviceId, secret);
    try {
      await device.press({ seq: 1, kind: 'test' });
      const { alarm } = await device.stage('received', 1);
      const refused = await platform.api().post(`/alarms/${alarm}/dispatch`, { unit: 'X' }).expect(409);
      expect(refused.body.message).toMatch(/never dispatched/);

      const token = await platform.integrationToken('cic-liege');
      const stream = new SseClient(`${platform.httpUrl}/api/v1/events`, token);
      try {
        const shown = await stream.next((e) => e.event === 'alarm.received' && e.data.id === alarm);
        expect(shown.data.kind).toBe('test');
        await platform.api(token).post(`/alarms/${alarm}/delivered`).expect(200);
        expect((await device.stage('closed')).alarm).toBe(alarm);
        const view = (await platform.api().get(`/alarms/${alarm}`).expect(200)).body;
        expect(view).toMatchObject({ kind: 'test', stage: 'closed', outcome: 'self-test delivered' });
        expect(steps(view)).toEqual(['received', 'routed', 'delivered', 'closed']);
      } finally {
        stream.close();
      }
    } finally {
      await device.close();
    }
  });

  it('exports an evidence timeline that verifies, and fails once a stored entry is altered', async () => {
    const { platform } = suite;
    const { deviceId, secret } = await platform.provision('cic-brussels');
    const device = await TestDevice.connect(platform.mqttUrl, deviceId, secret);
    try {
      await device.press({ seq: 1 });
      const { alarm } = await device.stage('received', 1);
      await platform.api().post(`/alarms/${alarm}/accept`).expect(200);
      await platform.api().post(`/alarms/${alarm}/close`, { outcome: 'resolved on the phone' }).expect(200);

      const intact = (await platform.api().get(`/alarms/${alarm}/evidence`).expect(200)).body;
      expect(intact.verification).toMatchObject({ valid: true, entries: 4 });
      expect(intact.timeline.map((e: { type: string }) => e.type)).toEqual(['received', 'routed', 'accepted', 'closed']);
      expect(intact.timeline[1].prevHash).toBe(intact.timeline[0].hash);

      // Someone with database access rewrites history.
      const accepted = intact.timeline[2];
      await suite.db.query(`UPDATE alarm_events SET data = '{"by":"nobody"}' WHERE id = $1`, [accepted.id]);
      const tampered = (await platform.api().get(`/alarms/${alarm}/evidence`).expect(200)).body;
      expect(tampered.verification).toMatchObject({ valid: false, firstInvalid: { id: accepted.id } });
    } finally {
      await device.close();
    }
  });

  it('reports service levels per CIC', async () => {
    const { platform } = suite;
    const { deviceId, secret } = await platform.provision('cic-vlaams-brabant');
    const device = await TestDevice.connect(platform.mqttUrl, deviceId, secret);
    try {
      await device.press({ seq: 1, ts: Math.floor(Date.now() / 1000) });
      const { alarm } = await device.stage('received', 1);
      await platform.api().post(`/alarms/${alarm}/dispatch`, { unit: 'VB-7' }).expect(200);
      const view = (await platform.api().get(`/alarms/${alarm}`).expect(200)).body;
      expect(view.serviceLevels.dispatchedS).toBeCloseTo((Date.parse(view.dispatchedAt) - Date.parse(view.receivedAt)) / 1000, 3);
      expect(view.serviceLevels.closedS).toBeNull();
      expect(view.serviceLevels.acceptedS).toBe(view.serviceLevels.dispatchedS); // dispatch implies acceptance

      const token = await platform.integrationToken('cic-vlaams-brabant');
      const stats = (await platform.api(token).get('/stats').expect(200)).body;
      expect(stats.cics).toHaveLength(1); // an integration sees its own CIC only
      expect(stats.cics[0]).toMatchObject({ cicId: 'cic-vlaams-brabant', alarms: 1, dispatched: { count: 1 }, accepted: { count: 1 } });
      expect(stats.cics[0].dispatched.p50).toBeCloseTo(view.serviceLevels.dispatchedS, 2);
      await platform.api().get('/stats?from=2026-12-01T00:00:00Z&to=2026-11-01T00:00:00Z').expect(400);
    } finally {
      await device.close();
    }
  });
});

describe('escalation when nobody takes the alarm', () => {
  const suite = usePlatform({ AMR_DELIVERY_TIMEOUT_S: '1', AMR_ACCEPT_TIMEOUT_S: '1', AMR_ESCALATION_SWEEP_MS: '100' });

  it('re-notifies, then hands the alarm to the backup CIC, recording every step', async () => {
    const { platform } = suite;
    await suite.db.query(`UPDATE cics SET backup_cic_id = 'cic-namur' WHERE id = 'cic-luxembourg'`);
    const namur = await platform.integrationToken('cic-namur');
    const backupStream = new SseClient(`${platform.httpUrl}/api/v1/events`, namur);
    // Luxembourg's stream is open and gets the alarm, but nobody there confirms it.
    const silentStream = new SseClient(`${platform.httpUrl}/api/v1/events`, await platform.integrationToken('cic-luxembourg'));
    await Promise.all([backupStream.opened, silentStream.opened]);
    const { deviceId, secret } = await platform.provision('cic-luxembourg');
    const device = await TestDevice.connect(platform.mqttUrl, deviceId, secret);
    try {
      await device.press({ seq: 1 });
      const { alarm } = await device.stage('received', 1);
      await silentStream.next((e) => e.event === 'alarm.received' && e.data.id === alarm);
      // Nobody at Luxembourg confirms it: after two delivery deadlines Namur has it.
      const handed = await backupStream.next((e) => e.event === 'alarm.received' && e.data.id === alarm, 10_000);
      expect(handed.data.cicId).toBe('cic-namur');
      const view = (await platform.api(namur).get(`/alarms/${alarm}`).expect(200)).body;
      const escalations = view.timeline.filter((t: { event?: string }) => t.event === 'escalated');
      expect(escalations.slice(0, 2)).toMatchObject([
        { step: 're-notify', reason: 'not-delivered', cicId: 'cic-luxembourg', level: 1 },
        { step: 'hand-over', reason: 'not-delivered', from: 'cic-luxembourg', to: 'cic-namur', level: 2 },
      ]);
      // Namur confirms it, and an operator accepts before the next deadline.
      await platform.api(namur).post(`/alarms/${alarm}/delivered`).expect(200);
      await platform.api(namur).post(`/alarms/${alarm}/accept`).expect(200);
      expect((await device.stage('accepted')).alarm).toBe(alarm);
    } finally {
      backupStream.close();
      silentStream.close();
      await device.close();
      await suite.db.query(`UPDATE cics SET backup_cic_id = NULL WHERE id = 'cic-luxembourg'`);
    }
  });
});
