import { describe, expect, it } from '@jest/globals';
import type { MqttClient } from 'mqtt';
import { deviceTopic, parseAck } from '@amr/protocol';
import { usePlatform } from './support/platform.js';
import { connectClient } from './support/device.js';

/** A device with a persistent session, reconnecting by itself as a button does. */
async function persistentDevice(url: string, deviceId: string, secret: string) {
  const client = await connectClient(url, { clientId: deviceId, username: deviceId, password: secret, clean: false, reconnectPeriod: 100 });
  const acks: Record<string, unknown>[] = [];
  const sent: number[] = [];
  let connects = 1;
  client.on('message', (topic, payload) => {
    if (topic !== deviceTopic(deviceId, 'ack')) return;
    const parsed = parseAck(payload);
    if (parsed.ok) acks.push(parsed.message as unknown as Record<string, unknown>);
  });
  client.on('connect', () => (connects += 1));
  client.on('packetsend', (p: { cmd: string; messageId?: number }) => p.cmd === 'publish' && sent.push(p.messageId ?? -1));
  return { client, acks, sent, connects: () => connects };
}

const settle = (client: MqttClient, ms: number) => new Promise((resolve) => setTimeout(resolve, ms)).then(() => client.connected);

describe('MQTT refusals', () => {
  const suite = usePlatform();

  it('grants a QoS 2 subscription to a device’s own ack topic at QoS 1, in the SUBACK and in its persistent session', async () => {
    const { deviceId, secret } = await suite.platform.provision();
    const device = await persistentDevice(suite.platform.mqttUrl, deviceId, secret);
    try {
      const granted = await device.client.subscribeAsync({ [deviceTopic(deviceId, 'ack')]: { qos: 2 }, [deviceTopic(deviceId, 'cmd')]: { qos: 1 } });
      expect(granted.map((g) => g.qos)).toEqual([1, 1]);
      // The session remembers QoS 1: an ack after a reconnection arrives at QoS 1.
      device.client.stream.destroy();
      await new Promise<void>((resolve) => device.client.once('connect', () => resolve()));
      const received = new Promise<number>((resolve) => device.client.once('message', (_t, _p, packet) => resolve(packet.qos)));
      await device.client.publishAsync(deviceTopic(deviceId, 'alarm'), '{"seq":1}', { qos: 1 });
      expect(await received).toBe(1);
    } finally {
      await device.client.endAsync(true);
    }
  });

  it.each([
    ['2 KiB, inside the 4 KiB packet limit', 2048],
    ['5 KiB, over the 4 KiB packet limit', 5000],
  ])('answers an oversize press (%s) on a persistent session with one rejected ack, and it is not sent again', async (_name, size) => {
    const { deviceId, secret } = await suite.platform.provision();
    const device = await persistentDevice(suite.platform.mqttUrl, deviceId, secret);
    try {
      await device.client.subscribeAsync(deviceTopic(deviceId, 'ack'), { qos: 1 });
      const before = await suite.platform.metric('amr_device_messages_rejected_total', { channel: 'alarm', code: 'oversize' });
      device.client.publish(deviceTopic(deviceId, 'alarm'), `{"seq":9,"pad":"${'x'.repeat(size)}"}`, { qos: 1 });
      // Over the packet limit the connection is closed (CONTRACT §2); the device reconnects at once.
      await settle(device.client, 1500);
      expect(device.acks).toEqual([expect.objectContaining({ stage: 'rejected', vib: 'long', reason: expect.stringMatching(/payload too large: \d+ bytes, max 1024/) })]);
      expect(device.sent).toHaveLength(1);
      expect(await suite.platform.metric('amr_device_messages_rejected_total', { channel: 'alarm', code: 'oversize' })).toBe(before + 1);
      expect(device.connects()).toBeLessThanOrEqual(2);
      // The session is fine afterwards: a good press is stored and answered.
      if (!device.client.connected) await new Promise<void>((resolve) => device.client.once('connect', () => resolve()));
      await device.client.publishAsync(deviceTopic(deviceId, 'alarm'), '{"seq":10}', { qos: 1 });
      await settle(device.client, 300);
      expect(device.acks.at(-1)).toMatchObject({ seq: 10, stage: 'received' });
    } finally {
      await device.client.endAsync(true);
    }
  });
});
