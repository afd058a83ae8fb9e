import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { usePlatform } from './support/platform.js';
import { TestDevice } from './support/device.js';

const hex = (h: string) => Buffer.from(h.replace(/\s+/g, ''), 'hex');
const json = (s: string) => Buffer.from(s, 'utf8');

/** What a faulty button (or a fuzzer) might send on its alarm topic, and what the reason must mention. */
const BAD_PRESSES: [string, Buffer, RegExp, number | undefined][] = [
  ['an empty payload', Buffer.alloc(0), /empty/i, undefined],
  ['garbage bytes', hex('00 ff 13 37'), /encoding|cbor|json/i, undefined],
  ['truncated CBOR', hex('a2 63 73 65 71 01 64 6b 69'), /malformed|truncat|cbor/i, undefined],
  ['a CBOR array', hex('82 01 02'), /map|encoding/i, undefined],
  ['broken JSON', json('{"seq": 1,'), /malformed|json/i, undefined],
  ['a JSON array', json('[1,2]'), /map|encoding|object/i, undefined],
  ['a missing seq', json('{"kind":"panic"}'), /seq/, undefined],
  ['a negative seq', json('{"seq":-1}'), /seq/, undefined],
  ['seq beyond uint32', json('{"seq":4294967296}'), /seq/, undefined],
  ['seq as a string', json('{"seq":"12"}'), /seq/, undefined],
  ['an unknown kind', json('{"seq":5,"kind":"fire"}'), /kind/, 5],
  ['battery 101 %', json('{"seq":6,"bat":101}'), /bat/, 6],
  ['latitude 91', json('{"seq":7,"loc":{"lat":91,"lon":4}}'), /lat/, 7],
  ['a location that is not a map', json('{"seq":8,"loc":[51,4]}'), /loc/, 8],
  ['a 2 KiB payload', json(`{"seq":9,"pad":"${'x'.repeat(2048)}"}`), /too large|1024|oversize/i, undefined],
];

describe('bad input from a device', () => {
  const suite = usePlatform();
  let device: TestDevice;
  let creds: { deviceId: string; secret: string };

  beforeAll(async () => {
    creds = await suite.platform.provision();
    device = await TestDevice.connect(suite.platform.mqttUrl, creds.deviceId, creds.secret);
  });

  afterAll(async () => {
    await device?.close();
  });

  it.each(BAD_PRESSES)('answers %s with a rejected ack and a reason, counts it, and keeps serving', async (_name, payload, reason, seq) => {
    const before = await suite.platform.metric('amr_device_messages_rejected_total', { channel: 'alarm' });
    if (!device.client.connected) device = await TestDevice.connect(suite.platform.mqttUrl, creds.deviceId, creds.secret);
    const count = device.acks.length;
    await device.publishRaw('alarm', payload).catch(() => undefined); // an oversize press closes the connection
    const ack = await device.ack((a) => device.acks.indexOf(a) >= count && a.stage === 'rejected');
    expect(ack.vib).toBe('long');
    expect(ack.reason).toMatch(reason);
    expect(ack.seq).toBe(seq);
    expect(ack.alarm).toBeUndefined();
    expect(await suite.platform.metric('amr_device_messages_rejected_total', { channel: 'alarm' })).toBe(before + 1);
  });

  it('stored no alarm for any of them, and a good press still goes through', async () => {
    const alarms = (await suite.platform.api().get('/alarms').expect(200)).body as { deviceId: string }[];
    expect(alarms.filter((a) => a.deviceId === creds.deviceId)).toHaveLength(0);
    if (!device.client.connected) device = await TestDevice.connect(suite.platform.mqttUrl, creds.deviceId, creds.secret);
    await device.press({ seq: 100 });
    expect((await device.stage('received', 100)).alarm).toEqual(expect.any(String));
    await suite.platform.http.get('/health').expect(200);
  });

  it('counts invalid status and location messages without answering them', async () => {
    const before = await suite.platform.metric('amr_device_messages_rejected_total', { channel: 'status' });
    await device.publishRaw('status', json('{"seq":"x"}'));
    await device.publishRaw('status', json('{"seq":1,"bat":55,"fw":"1.2.0"}'));
    // The valid heartbeat after it is applied, so the bad one was handled (in order) and counted.
    const deadline = Date.now() + 5000;
    let health;
    do {
      health = (await suite.platform.api().get(`/devices/${creds.deviceId}`).expect(200)).body;
    } while (health.fw !== '1.2.0' && Date.now() < deadline);
    expect(health).toMatchObject({ battery: 55, fw: '1.2.0', connected: true });
    expect(await suite.platform.metric('amr_device_messages_rejected_total', { channel: 'status' })).toBe(before + 1);
  });
});
