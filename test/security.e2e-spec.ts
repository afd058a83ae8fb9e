import { describe, expect, it } from '@jest/globals';
import { deviceTopic } from '@amr/protocol';
import { usePlatform } from './support/platform.js';
import { TestDevice, connackCode } from './support/device.js';
import { SseClient } from './support/sse.js';

const NOT_AUTHORIZED = 5;

const refusal = connackCode;

describe('least privilege', () => {
  const suite = usePlatform();

  describe('MQTT connect', () => {
    it('accepts a provisioned device with its secret', async () => {
      const { deviceId, secret } = await suite.platform.provision();
      expect(await refusal(suite.platform.mqttUrl, { clientId: deviceId, username: deviceId, password: secret })).toBe(0);
    });

    it.each([
      ['a wrong secret', (id: string) => ({ clientId: id, username: id, password: 'not-the-secret' })],
      ['clientId ≠ username', (id: string) => ({ clientId: `${id}-x`, username: id, password: 'SECRET' })],
      ['an unknown device', () => ({ clientId: 'btn-unknown', username: 'btn-unknown', password: 'whatever' })],
      ['no credentials at all', (id: string) => ({ clientId: id })],
      ['a device id posing as the platform', (id: string) => ({ clientId: id, username: 'platform:internal', password: 'guess' })],
    ])('refuses %s with CONNACK 5', async (_name, options) => {
      const { deviceId, secret } = await suite.platform.provision();
      const opts = options(deviceId) as Record<string, unknown>;
      if (opts.password === 'SECRET') opts.password = secret;
      const before = await suite.platform.metric('amr_mqtt_connect_refused_total');
      expect(await refusal(suite.platform.mqttUrl, opts)).toBe(NOT_AUTHORIZED);
      expect(await suite.platform.metric('amr_mqtt_connect_refused_total')).toBe(before + 1);
    });

    it('refuses a deactivated device, and has cut its live connection by the time deactivation returns', async () => {
      const { deviceId, secret } = await suite.platform.provision();
      const device = await TestDevice.connect(suite.platform.mqttUrl, deviceId, secret);
      expect(await device.statusOrCut()).toBe('served');
      await suite.platform.api().post(`/devices/${deviceId}/deactivate`).expect(200);
      // Nothing the device sends once the call has returned is taken, and its connection closes.
      expect(await device.statusOrCut()).toBe('cut');
      await device.closed;
      await device.close();
      expect(await refusal(suite.platform.mqttUrl, { clientId: deviceId, username: deviceId, password: secret })).toBe(NOT_AUTHORIZED);
      expect((await suite.platform.api().get(`/devices/${deviceId}`).expect(200)).body.active).toBe(false);
    });

    it('stops accepting the old secret the moment it is rotated', async () => {
      const { deviceId, secret } = await suite.platform.provision();
      const creds = { clientId: deviceId, username: deviceId };
      expect(await refusal(suite.platform.mqttUrl, { ...creds, password: secret })).toBe(0);
      const rotated = (await suite.platform.api().post(`/devices/${deviceId}/rotate-secret`).expect(200)).body.secret;
      expect(await refusal(suite.platform.mqttUrl, { ...creds, password: secret })).toBe(NOT_AUTHORIZED);
      expect(await refusal(suite.platform.mqttUrl, { ...creds, password: rotated })).toBe(0);
    });
  });

  describe('topic ACL', () => {
    it('refuses a subscription to another device’s topics with SUBACK 0x80, and allows its own', async () => {
      const a = await suite.platform.provision();
      const b = await suite.platform.provision();
      const device = await TestDevice.connect(suite.platform.mqttUrl, a.deviceId, a.secret);
      try {
        const topics = [deviceTopic(b.deviceId, 'ack'), deviceTopic(b.deviceId, 'cmd'), 'amr/v1/dev/+/ack', '#', deviceTopic(a.deviceId, 'cmd')];
        const before = await suite.platform.metric('amr_mqtt_subscribe_refused_total');
        // mqtt.js rejects a SUBACK that holds a failure code; the packet is on the error.
        const suback = await device.client
          .subscribeAsync(Object.fromEntries(topics.map((t) => [t, { qos: 1 as const }])))
          .then(() => null, (err: { packet?: { granted?: number[] } }) => err.packet);
        expect(suback?.granted).toEqual([0x80, 0x80, 0x80, 0x80, 1]);
        expect(await suite.platform.metric('amr_mqtt_subscribe_refused_total')).toBe(before + 4);
      } finally {
        await device.close();
      }
    });

    it('disconnects a device publishing on another device’s topic, and no alarm is raised for the victim', async () => {
      const attacker = await suite.platform.provision();
      const victim = await suite.platform.provision();
      const device = await TestDevice.connect(suite.platform.mqttUrl, attacker.deviceId, attacker.secret);
      const closed = new Promise<void>((resolve) => device.client.once('close', () => resolve()));
      const before = await suite.platform.metric('amr_mqtt_publish_refused_total');
      device.client.publish(deviceTopic(victim.deviceId, 'alarm'), Buffer.from('{"seq":1}'), { qos: 1 });
      await closed;
      await device.close();
      expect(await suite.platform.metric('amr_mqtt_publish_refused_total')).toBe(before + 1);
      const alarms = (await suite.platform.api().get('/alarms').expect(200)).body as { deviceId: string }[];
      expect(alarms.some((a) => a.deviceId === victim.deviceId)).toBe(false);
    });
  });

  describe('HTTP API', () => {
    it('refuses a request without a token, or with an unknown one, with 401 and a message', async () => {
      const missing = await suite.platform.http.get('/api/v1/alarms').expect(401);
      expect(missing.body.message).toMatch(/bearer token/i);
      const wrong = await suite.platform.http.get('/api/v1/alarms').set('Authorization', 'Bearer nope').expect(401);
      expect(wrong.body.message).toMatch(/unknown or revoked/i);
    });

    it('keeps integrations out of administration routes', async () => {
      const token = await suite.platform.integrationToken('cic-limburg');
      const res = await suite.platform.api(token).post('/cases', { homeCicId: 'cic-limburg' }).expect(403);
      expect(res.body.message).toMatch(/administrators/);
    });

    it('answers invalid bodies with 400 and says which field is wrong', async () => {
      const res = await suite.platform.api().post('/cases', { homeCicId: 'cic-antwerpen', riskLevel: 'extreme' }).expect(400);
      expect(JSON.stringify(res.body.message)).toMatch(/riskLevel/);
      const unknown = await suite.platform.api().post('/cases', { homeCicId: 'cic-atlantis' }).expect(422);
      expect(unknown.body.message).toMatch(/GET \/api\/v1\/cics/);
      await suite.platform.api().get('/alarms/not-a-uuid').expect(400);
    });

    it('lets an integration see and act on its own CIC’s alarms only', async () => {
      const antwerpen = await suite.platform.integrationToken('cic-antwerpen');
      const namur = await suite.platform.integrationToken('cic-namur');
      const { deviceId, secret } = await suite.platform.provision('cic-namur');
      const device = await TestDevice.connect(suite.platform.mqttUrl, deviceId, secret);
      try {
        await device.press({ seq: 1 });
        const { alarm } = await device.stage('received', 1);

        const theirs = (await suite.platform.api(antwerpen).get('/alarms').expect(200)).body as { id: string; cicId: string }[];
        expect(theirs.map((a) => a.id)).not.toContain(alarm);
        expect(theirs.every((a) => a.cicId === 'cic-antwerpen')).toBe(true);
        await suite.platform.api(antwerpen).get(`/alarms/${alarm}`).expect(404);
        await suite.platform.api(antwerpen).post(`/alarms/${alarm}/accept`).expect(404);
        await suite.platform.api(antwerpen).post(`/alarms/${alarm}/close`, { outcome: 'x' }).expect(404);

        const mine = (await suite.platform.api(namur).get('/alarms?state=open').expect(200)).body as { id: string }[];
        expect(mine.map((a) => a.id)).toContain(alarm);
        await suite.platform.api(namur).post(`/alarms/${alarm}/accept`).expect(200);
        expect((await device.stage('accepted')).vib).toBe('double');
      } finally {
        await device.close();
      }
    });

    it('streams an integration only its own CIC’s events', async () => {
      const namurToken = await suite.platform.integrationToken('cic-namur');
      const liegeToken = await suite.platform.integrationToken('cic-liege');
      const namurStream = new SseClient(`${suite.platform.httpUrl}/api/v1/events`, namurToken);
      const liegeStream = new SseClient(`${suite.platform.httpUrl}/api/v1/events`, liegeToken);
      await Promise.all([namurStream.opened, liegeStream.opened]);
      const inNamur = await suite.platform.provision('cic-namur');
      const inLiege = await suite.platform.provision('cic-liege');
      const namurDevice = await TestDevice.connect(suite.platform.mqttUrl, inNamur.deviceId, inNamur.secret);
      const liegeDevice = await TestDevice.connect(suite.platform.mqttUrl, inLiege.deviceId, inLiege.secret);
      try {
        await namurDevice.press({ seq: 1 });
        const namurAlarm = (await namurDevice.stage('received', 1)).alarm;
        await namurStream.next((e) => e.event === 'alarm.received' && e.data.id === namurAlarm);
        // Liège's stream is ordered: once its own later alarm arrives, Namur's would have come first.
        await liegeDevice.press({ seq: 1 });
        const liegeAlarm = (await liegeDevice.stage('received', 1)).alarm;
        await liegeStream.next((e) => e.event === 'alarm.received' && e.data.id === liegeAlarm);
        expect(liegeStream.events.some((e) => e.data?.id === namurAlarm || e.data?.cicId === 'cic-namur')).toBe(false);
        expect(namurStream.events.some((e) => e.data?.id === liegeAlarm)).toBe(false);
      } finally {
        namurStream.close();
        liegeStream.close();
        await namurDevice.close();
        await liegeDevice.close();
      }
    });

    it('answers an impossible stage change with 409 and the allowed stages', async () => {
      const { deviceId, secret } = await suite.platform.provision();
      const device = await TestDevice.connect(suite.platform.mqttUrl, deviceId, secret);
      try {
        await device.press({ seq: 1 });
        const { alarm } = await device.stage('received', 1);
        await suite.platform.api().post(`/alarms/${alarm}/close`, { outcome: 'resolved' }).expect(200);
        const res = await suite.platform.api().post(`/alarms/${alarm}/accept`).expect(409);
        expect(res.body.message).toMatch(/closed/);
      } finally {
        await device.close();
      }
    });
  });
});
