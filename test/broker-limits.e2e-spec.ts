import { connect as connectTcp, type Socket } from 'node:net';
import { connect as connectTls } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from '@jest/globals';
import { MqttClient, type IClientOptions } from 'mqtt';
import { deviceTopic } from '@amr/protocol';
import { usePlatform } from './support/platform.js';
import { TestDevice, connectClient } from './support/device.js';

/** A full garbage collection, so that memory measured afterwards is the platform's, not garbage. */
function collectGarbage(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

const CONNECT_TIMEOUT_MS = 1500;
const MAX_PENDING = 4;
/** Fixed headers of CONNECTs (MQTT 3.1.1 §2.2.3: Remaining Length, 7 bits a byte, least significant first). */
const CONNECT_256_MIB = Buffer.from([0x10, 0xff, 0xff, 0xff, 0x7f]); // 268,435,455 bytes, the largest there is
const CONNECT_5000 = Buffer.from([0x10, 0x88, 0x27]);
/** What follows a CONNECT's fixed header: protocol name and level, flags, keep-alive (MQTT 3.1.1 §3.1.2). */
const CONNECT_VARIABLE_HEADER = Buffer.from([0x00, 0x04, 0x4d, 0x51, 0x54, 0x54, 0x04, 0xc2, 0x00, 0x3c]);

/**
 * A connection that sends nothing, opened from 127.0.0.3 (no other test connects from there): the
 * broker closes it at its CONNECT deadline, which started before those of the connections opened
 * after it. While it is open, none of those has reached its deadline.
 */
async function deadlineWitness(port: number): Promise<{ open: () => boolean; close: () => void }> {
  const socket = await openRaw(port, '127.0.0.3');
  let closed = false;
  socket.once('close', () => (closed = true));
  return { open: () => !closed && !socket.destroyed, close: () => socket.destroy() };
}

/** Resolves once the socket is closed. */
function whenClosed(socket: Socket): Promise<void> {
  return new Promise((resolve) => {
    if (socket.destroyed) resolve();
    socket.once('close', () => resolve());
  });
}

/** Resolves with the time the socket was closed by the broker (ms after `since`). */
async function closedAfter(socket: Socket, since: number): Promise<number> {
  await whenClosed(socket);
  return Date.now() - since;
}

function openRaw(port: number, localAddress = '127.0.0.1'): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connectTcp({ port, host: '127.0.0.1', localAddress, noDelay: true }, () => resolve(socket));
    socket.on('error', () => undefined); // a reset from the broker is what these tests expect
    socket.once('error', reject);
  });
}

/** A real mqtt.js client connecting from `localAddress`; rejects when closed before its CONNACK. */
function connectFrom(localAddress: string, port: number, options: IClientOptions): Promise<MqttClient> {
  const client = new MqttClient(() => connectTcp({ port, host: '127.0.0.1', localAddress, noDelay: true }), {
    protocolVersion: 4,
    reconnectPeriod: 0,
    ...options,
  });
  return new Promise((resolve, reject) => {
    client.once('connect', () => resolve(client));
    client.once('error', reject);
    client.once('close', () => reject(new Error('closed before CONNACK')));
  });
}

describe('broker connection limits (CONTRACT §2)', () => {
  const suite = usePlatform({
    MQTT_CONNECT_TIMEOUT_MS: String(CONNECT_TIMEOUT_MS),
    MQTT_MAX_PENDING_PER_ADDRESS: String(MAX_PENDING),
    TLS_CERT: fixture('tls-cert.pem'),
    TLS_KEY: fixture('tls-key.pem'),
    MQTTS_PORT: '0',
  });
  const closed = (reason: string) => suite.platform.metric('amr_mqtt_connections_closed_total', { reason });

  it('closes CONNECTs announcing 256 MiB at once, without taking their bodies into memory', async () => {
    const before = await closed('packet-too-large');
    const body = Buffer.alloc(8 * 2 ** 20, 0x61); // each sender tries to push 8 MiB of it
    // The platform runs in this process: its memory is sampled while the senders push.
    collectGarbage();
    const base = process.memoryUsage();
    const peak = { rss: 0, arrayBuffers: 0 };
    const sample = setInterval(() => {
      const now = process.memoryUsage();
      peak.rss = Math.max(peak.rss, now.rss - base.rss);
      peak.arrayBuffers = Math.max(peak.arrayBuffers, now.arrayBuffers - base.arrayBuffers);
    }, 5);
    const witness = await deadlineWitness(suite.platform.running.ports.mqtt);
    try {
      const sockets = await Promise.all(Array.from({ length: 12 }, () => openRaw(suite.platform.running.ports.mqtt)));
      const closings = sockets.map(whenClosed);
      for (const socket of sockets) {
        socket.write(Buffer.concat([CONNECT_256_MIB, CONNECT_VARIABLE_HEADER]));
        socket.write(body);
      }
      await Promise.all(closings);
      // By the packet limit, not the deadline: all closed for that reason, and before the deadline
      // of a connection that was there before them.
      expect(witness.open()).toBe(true);
      expect(await closed('packet-too-large')).toBe(before + 12);
    } finally {
      clearInterval(sample);
      witness.close();
    }
    // 12 × 256 MiB announced, up to 96 MiB sent: none of it is taken in. (A parser buffering each
    // announced packet holds what arrives until the CONNECT deadline: about +32 MiB of buffers here.)
    expect(peak.arrayBuffers).toBeLessThan(4 * 2 ** 20);
    expect(peak.rss).toBeLessThan(16 * 2 ** 20);
  });

  it('closes a CONNECT over 4 KiB on the TLS listener too, and still serves a device there', async () => {
    const before = await closed('packet-too-large');
    const port = suite.platform.running.ports.mqtts!;
    const witness = await deadlineWitness(suite.platform.running.ports.mqtt);
    try {
      const socket = connectTls({ port, host: '127.0.0.1', servername: 'localhost', rejectUnauthorized: false });
      socket.on('error', () => undefined);
      await new Promise((resolve) => socket.once('secureConnect', resolve));
      socket.write(Buffer.concat([CONNECT_5000, CONNECT_VARIABLE_HEADER]));
      await whenClosed(socket as unknown as Socket);
      // By the packet limit, before the deadline of a connection that was there before it.
      expect(witness.open()).toBe(true);
      expect(await closed('packet-too-large')).toBe(before + 1);
    } finally {
      witness.close();
    }

    const { deviceId, secret } = await suite.platform.provision();
    const device = await TestDevice.connect(`mqtts://127.0.0.1:${port}`, deviceId, secret, { rejectUnauthorized: false, servername: 'localhost' });
    await device.press({ seq: 1 }, 'json');
    expect((await device.stage('received', 1)).stage).toBe('received');
    await device.close();
  });

  it('closes an authenticated device’s connection at a 5 KiB PUBLISH, and lets 1 KiB through', async () => {
    const { deviceId, secret } = await suite.platform.provision();
    const device = await TestDevice.connect(suite.platform.mqttUrl, deviceId, secret);
    const pad = (bytes: number) => Buffer.from(JSON.stringify({ seq: 7, pad: 'x'.repeat(bytes - 20) }).padEnd(bytes, ' '));

    const fine = pad(1000);
    expect(fine.length).toBeLessThanOrEqual(1024);
    await device.publishRaw('alarm', fine);
    expect((await device.stage('received', 7)).stage).toBe('received');

    // Over the 1 KiB payload limit but under the 4 KiB packet limit: answered, not cut (CONTRACT §3).
    await device.publishRaw('alarm', pad(2048));
    expect((await device.stage('rejected')).reason).toBeTruthy();
    expect(device.client.connected).toBe(true);

    const before = await closed('packet-too-large');
    const cut = new Promise<void>((resolve) => device.client.once('close', () => resolve()));
    device.client.publish(deviceTopic(deviceId, 'status'), Buffer.alloc(5 * 1024, 0x20), { qos: 1 });
    await cut;
    expect(await closed('packet-too-large')).toBe(before + 1);
    await device.close();
  });

  it('lets the platform’s own authenticated client publish more than 4 KiB', async () => {
    const { username, password } = suite.platform.running.config.internal;
    const client = await connectClient(suite.platform.mqttUrl, { clientId: 'test-platform-large', username, password });
    try {
      await client.publishAsync('amr/test/large', Buffer.alloc(16 * 1024, 0x20), { qos: 1 });
      expect(client.connected).toBe(true);
    } finally {
      await client.endAsync(true);
    }
  });

  it('closes a connection that sends no CONNECT after the deadline', async () => {
    const before = await closed('connect-timeout');
    const started = Date.now();
    const socket = await openRaw(suite.platform.running.ports.mqtt);
    const after = await closedAfter(socket, started);
    // Not before the deadline (100 ms for timer granularity), and by the configured one: 3 s of room
    // for a loaded machine still ends before the 5 s that MQTT_CONNECT_TIMEOUT_MS defaults to.
    expect(after).toBeGreaterThanOrEqual(CONNECT_TIMEOUT_MS - 100);
    expect(after).toBeLessThan(CONNECT_TIMEOUT_MS + 3000);
    expect(await closed('connect-timeout')).toBe(before + 1);
  });

  it('closes connections of one address over the pending bound at once, and frees the places as they end', async () => {
    const port = suite.platform.running.ports.mqtt;
    const before = await closed('pending-per-address');
    const idle = await Promise.all(Array.from({ length: MAX_PENDING }, () => openRaw(port, '127.0.0.2')));
    const extra = await openRaw(port, '127.0.0.2').catch(() => undefined);
    if (extra) await whenClosed(extra);
    // At once: the idle ones, opened before it, have not reached their deadline yet.
    expect(idle.every((s) => !s.destroyed)).toBe(true);
    expect(await closed('pending-per-address')).toBe(before + 1);

    // Another address is not affected.
    const { deviceId, secret } = await suite.platform.provision();
    const elsewhere = await TestDevice.connect(suite.platform.mqttUrl, deviceId, secret);
    await elsewhere.close();

    // The idle ones end (here: their own close), and the address may connect again as soon as the
    // broker has seen them go.
    await Promise.all(idle.map((s) => new Promise((resolve) => s.destroy() && s.once('close', resolve))));
    const deadline = Date.now() + 2000;
    let client: MqttClient | undefined;
    while (!client) {
      client = await connectFrom('127.0.0.2', port, { clientId: deviceId, username: deviceId, password: secret }).catch((err: unknown) => {
        if (Date.now() > deadline) throw err;
        return undefined;
      });
    }
    await client.endAsync(true);
  });
});
