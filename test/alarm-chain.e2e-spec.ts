import { describe, expect, it } from '@jest/globals';
import { VIBRATION } from '@amr/protocol';
import { ADMIN_TOKEN, usePlatform } from './support/platform.js';
import { TestDevice } from './support/device.js';
import { SseClient } from './support/sse.js';

const ANTWERP = { lat: 51.2194, lon: 4.4025, acc: 12, ts: 1_790_000_000, src: 'gnss' };

describe('a press, from the button to the CIC and back', () => {
  const suite = usePlatform();

  it('goes received → accepted → dispatched → closed, each stage seen by the device and on SSE', async () => {
    const { deviceId, secret, caseId } = await suite.platform.provision('cic-antwerpen', {
      responderNotes: 'Victim lives on the 3rd floor; door code 4512',
      perpetrator: { name: 'J. Doe', vehicle: 'grey VW Golf', weaponsKnown: true },
    });
    const cicToken = await suite.platform.integrationToken('cic-antwerpen');
    const sse = new SseClient(`${suite.platform.httpUrl}/api/v1/events`, cicToken);
    await sse.opened;
    const device = await TestDevice.connect(suite.platform.mqttUrl, deviceId, secret);
    try {
      await device.press({ seq: 1, ts: 1_790_000_000, loc: ANTWERP, bat: 80 });
      const received = await device.stage('received', 1);
      expect(received.vib).toBe('short');
      expect(typeof received.alarm).toBe('string');
      const alarmId = received.alarm!;

      const announced = await sse.next((e) => e.event === 'alarm.received' && e.data.id === alarmId);
      expect(announced.data).toMatchObject({
        deviceId,
        caseId,
        cicId: 'cic-antwerpen',
        kind: 'panic',
        stage: 'received',
        pressCount: 1,
        case: { riskLevel: 'high', perpetrator: { name: 'J. Doe', weaponsKnown: true } },
        positions: [{ lat: ANTWERP.lat, lon: ANTWERP.lon, acc: 12, src: 'gnss' }],
      });

      const api = suite.platform.api(cicToken);
      await api.post(`/alarms/${alarmId}/accept`).expect(200);
      expect((await device.stage('accepted')).vib).toBe('double');
      await sse.next((e) => e.event === 'alarm.accepted' && e.data.id === alarmId);

      await api.post(`/alarms/${alarmId}/dispatch`, { unit: 'ANT-21', etaMin: 6 }).expect(200);
      expect((await device.stage('dispatched')).vib).toBe('triple');
      await sse.next((e) => e.event === 'alarm.dispatched' && e.data.id === alarmId);

      await api.post(`/alarms/${alarmId}/close`, { outcome: 'perpetrator arrested' }).expect(200);
      const closed = await device.stage('closed');
      expect(closed.vib).toBe('none');
      expect(closed).toMatchObject({ seq: 1, alarm: alarmId });
      await sse.next((e) => e.event === 'alarm.closed' && e.data.id === alarmId);

      const view = (await api.get(`/alarms/${alarmId}`).expect(200)).body;
      expect(view.stage).toBe('closed');
      expect(view.case.responderNotes).toContain('door code');
      const steps = view.timeline.map((t: { stage?: string; event?: string }) => t.stage ?? t.event);
      // The CIC's stream received it: `delivered` (recorded as the stream writes it, so its place may vary).
      expect(steps.filter((s: string) => s !== 'delivered')).toEqual(['received', 'routed', 'accepted', 'dispatched', 'closed']);
      expect(steps).toContain('delivered');
      expect(view.timeline.find((t: { stage?: string }) => t.stage === 'dispatched')).toMatchObject({ unit: 'ANT-21', etaMin: 6 });
      expect(device.acks.map((a) => a.stage)).toEqual(['received', 'accepted', 'dispatched', 'closed']);
      expect(device.acks.every((a) => a.vib === VIBRATION[a.stage] && typeof a.ts === 'number')).toBe(true);

      // Closed alarms leave the open list.
      const open = (await api.get('/alarms?state=open').expect(200)).body as { id: string }[];
      expect(open.map((a) => a.id)).not.toContain(alarmId);
    } finally {
      sse.close();
      await device.close();
    }
  });

  it('gives a retransmitted press the same alarm id and never a second alarm', async () => {
    const { deviceId, secret } = await suite.platform.provision();
    const device = await TestDevice.connect(suite.platform.mqttUrl, deviceId, secret);
    try {
      await device.press({ seq: 7, ts: 1_790_000_100 });
      const first = await device.stage('received', 7);
      await device.press({ seq: 7, ts: 1_790_000_100 });
      await device.press({ seq: 7, ts: 1_790_000_100 });
      await device.ack(() => device.acks.filter((a) => a.stage === 'received').length === 3);
      expect(new Set(device.acks.map((a) => a.alarm))).toEqual(new Set([first.alarm]));

      const alarms = (await suite.platform.api().get('/alarms').expect(200)).body.filter((a: { deviceId: string }) => a.deviceId === deviceId);
      expect(alarms).toHaveLength(1);
      expect(alarms[0].pressCount).toBe(1);
    } finally {
      await device.close();
    }
  });

  it('joins a new press to the open alarm: same id, press count and timeline grow', async () => {
    const { deviceId, secret } = await suite.platform.provision();
    const device = await TestDevice.connect(suite.platform.mqttUrl, deviceId, secret);
    try {
      await device.press({ seq: 1 });
      const first = await device.stage('received', 1);
      await suite.platform.api().post(`/alarms/${first.alarm}/accept`).expect(200);
      await device.stage('accepted');

      await device.press({ seq: 2 });
      const second = await device.stage('received', 2);
      expect(second.alarm).toBe(first.alarm);
      // The joined press is told the alarm's current stage too: an operator already has it.
      expect((await device.ack((a) => a.stage === 'accepted' && a.seq === 2)).vib).toBe('double');

      const view = (await suite.platform.api().get(`/alarms/${first.alarm}`).expect(200)).body;
      expect(view.pressCount).toBe(2);
      expect(view.timeline.filter((t: { event?: string }) => t.event === 'press')).toHaveLength(1);
    } finally {
      await device.close();
    }
  });

  it('announces a joining press from its own transaction, as the API then shows the alarm; the presses of the same second together at its end', async () => {
    const { platform, db } = suite;
    const { deviceId, secret } = await platform.provision('cic-antwerpen');
    const cicToken = await platform.integrationToken('cic-antwerpen');
    const sse = new SseClient(`${platform.httpUrl}/api/v1/events`, cicToken);
    await sse.opened;
    const device = await TestDevice.connect(platform.mqttUrl, deviceId, secret);
    try {
      await device.press({ seq: 1, ts: 1_790_000_000, loc: ANTWERP });
      const { alarm: alarmId } = await device.stage('received', 1);
      await sse.next((e) => e.event === 'alarm.received' && e.data.id === alarmId);

      await device.press({ seq: 2, ts: 1_790_000_030, loc: { ...ANTWERP, lat: 51.2201, ts: 1_790_000_029 }, bat: 71 });
      await device.stage('received', 2);
      const pressed = await sse.next((e) => e.event === 'alarm.pressed' && e.data.id === alarmId);
      // written by the press's own transaction: the event's log position carries that transaction's id
      const [row] = await db.query('SELECT xmin::text AS tx FROM alarm_presses WHERE device_id = $1 AND seq = 2', [deviceId]);
      expect(BigInt(pressed.id!.split('-')[0]!) % 2n ** 32n).toBe(BigInt(row.tx));
      // built from the view read under the alarm's lock and what the press changed: what a read after the commit shows
      const stored = (await platform.api(cicToken).get(`/alarms/${alarmId}`).expect(200)).body;
      expect(pressed.data).toEqual(stored);
      expect(stored).toMatchObject({ pressCount: 2, positionCount: 2 });
      expect(stored.positions.map((p: { lat: number }) => p.lat)).toEqual([ANTWERP.lat, 51.2201]);
      expect(stored.timeline.at(-1)).toMatchObject({ event: 'press', seq: 2, pressCount: 2 });

      // two more within the same second: folded into one announcement at its end, of the alarm as stored then
      await device.press({ seq: 3 });
      await device.press({ seq: 4 });
      await device.stage('received', 4);
      const last = await sse.next((e) => e.event === 'alarm.pressed' && e.data.id === alarmId && e.data.pressCount === 4);
      expect(last.data).toEqual((await platform.api(cicToken).get(`/alarms/${alarmId}`).expect(200)).body);
      const announcements = sse.events.filter((e) => e.event === 'alarm.pressed' && e.data.id === alarmId);
      expect(announcements.map((e) => e.data.pressCount)).toEqual([2, 4]);
    } finally {
      sse.close();
      await device.close();
    }
  });

  it('keeps a press whose seq went backwards (counter reset) as an alarm, flagged for the operator', async () => {
    const { deviceId, secret } = await suite.platform.provision();
    const device = await TestDevice.connect(suite.platform.mqttUrl, deviceId, secret);
    try {
      await device.press({ seq: 50, ts: 1_790_000_000 });
      const first = await device.stage('received', 50);
      await suite.platform.api().post(`/alarms/${first.alarm}/close`, { outcome: 'false alarm' }).expect(200);
      await device.stage('closed');

      await device.press({ seq: 3, ts: 1_790_009_000 });
      const second = await device.stage('received', 3);
      expect(second.alarm).not.toBe(first.alarm);
      const view = (await suite.platform.api().get(`/alarms/${second.alarm}`).expect(200)).body;
      expect(view.flags).toContain('unexpected-seq');
      expect(view.stage).toBe('received');
    } finally {
      await device.close();
    }
  });

  it('never sends received before the alarm is readable through the API', async () => {
    const { deviceId, secret } = await suite.platform.provision();
    const device = await TestDevice.connect(suite.platform.mqttUrl, deviceId, secret);
    try {
      for (let seq = 1; seq <= 15; seq++) {
        await device.press({ seq });
        const ack = await device.stage('received', seq);
        // Asked the moment the ack lands: the stored alarm must already be there, with this press.
        const view = (await suite.platform.api().get(`/alarms/${ack.alarm}`).expect(200)).body;
        expect(view.timeline.length).toBeGreaterThan(0);
        await suite.platform.api().post(`/alarms/${ack.alarm}/close`, { outcome: 'test' }).expect(200);
        await device.stage('closed', seq);
      }
    } finally {
      await device.close();
    }
  });

  it('tells a button that comes back (a new session) the current stage of its open alarm', async () => {
    const { deviceId, secret } = await suite.platform.provision();
    let device = await TestDevice.connect(suite.platform.mqttUrl, deviceId, secret);
    await device.press({ seq: 1 });
    const { alarm } = await device.stage('received', 1);
    await device.close();
    // While the button is out of coverage, with no session kept, the operator takes the alarm.
    await suite.platform.api().post(`/alarms/${alarm}/dispatch`, { unit: 'ANT-3' }).expect(200);

    device = await TestDevice.connect(suite.platform.mqttUrl, deviceId, secret);
    try {
      const reminded = await device.stage('dispatched');
      expect(reminded).toMatchObject({ alarm, seq: 1, vib: 'triple' });
    } finally {
      await device.close();
    }
  });

  it('answers a device in the encoding of its most recent message', async () => {
    const { deviceId, secret } = await suite.platform.provision();
    const device = await TestDevice.connect(suite.platform.mqttUrl, deviceId, secret);
    try {
      await device.press({ seq: 1 }, 'json');
      await device.stage('received', 1);
      expect(device.raw[0]![0]).toBe(0x7b); // '{'
      await device.press({ seq: 2 }, 'cbor');
      await device.stage('received', 2);
      expect(device.raw[device.raw.length - 1]![0]! & 0xe0).toBe(0xa0); // a CBOR map
    } finally {
      await device.close();
    }
  });

  it('serves an OpenAPI document, and health without a token', async () => {
    const health = await suite.platform.http.get('/health').expect(200);
    expect(health.body).toMatchObject({ status: 'ok', database: 'up', broker: 'up' });
    const doc = await suite.platform.http.get('/api/docs-json').expect(200);
    expect(Object.keys(doc.body.paths)).toEqual(expect.arrayContaining(['/api/v1/alarms/{id}/accept', '/api/v1/devices', '/api/v1/events']));
    await suite.platform.http.get('/api/docs').expect(200);
    expect((await suite.platform.api(ADMIN_TOKEN).get('/cics').expect(200)).body).toHaveLength(11);
  });
});
