import { createServer, connect as connectTcp, type Server, type Socket } from 'node:net';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { DataSource } from 'typeorm';
import { Redis } from 'ioredis';
import { connect } from 'mqtt';
import { deviceTopic, parseAck, parseCmd, type AckMessage } from '@amr/protocol';
import { openDatabase } from '@amr/persistence';
import { BOOT_TIMEOUT_MS, closeDatabase, openTestDatabase, startTestPlatform, type TestPlatform } from './support/platform.js';
import { MqttBroker } from '@amr/broker';
import { ConnectionState } from '../broker/src/connection-state.js';
import { TestDevice, connectClient } from './support/device.js';
import { eventually } from './support/eventually.js';

/**
 * A TCP relay in front of Redis that the test can cut, as if Redis died: while cut, every open
 * connection is reset and new ones are closed as soon as they arrive.
 */
class CuttableRelay {
  private readonly server: Server;
  private readonly open = new Set<Socket>();
  private cut = false;

  private constructor(target: URL) {
    this.server = createServer({ noDelay: true }, (inbound) => {
      if (this.cut) return void inbound.destroy();
      const outbound = connectTcp({ host: target.hostname, port: Number(target.port || 6379), noDelay: true });
      for (const [a, b] of [[inbound, outbound], [outbound, inbound]] as const) {
        this.open.add(a);
        a.on('error', () => undefined);
        a.on('close', () => (this.open.delete(a), b.destroy()));
        a.pipe(b);
      }
    });
  }

  static async start(target: URL): Promise<CuttableRelay> {
    const relay = new CuttableRelay(target);
    await new Promise<void>((resolve) => relay.server.listen(0, '127.0.0.1', resolve));
    return relay;
  }

  /** The URL to give a node: the target's, through the relay. */
  url(target: URL): string {
    const address = this.server.address();
    const through = new URL(target.href);
    through.host = `127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
    return through.href;
  }

  down(): void {
    this.cut = true;
    for (const socket of this.open) socket.resetAndDestroy();
  }

  up(): void {
    this.cut = false;
  }

  close(): Promise<void> {
    this.down();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** A raw client on a device's persistent session; collects the acks and commands it receives. */
async function sessionClient(url: string, deviceId: string, secret: string) {
  const acks: AckMessage[] = [];
  const commands: unknown[] = [];
  const client = connect(url, {
    clientId: deviceId, username: deviceId, password: secret, clean: false, protocolVersion: 4, reconnectPeriod: 0,
  });
  client.on('message', (topic, payload) => {
    if (topic === deviceTopic(deviceId, 'cmd')) commands.push(parseCmd(payload));
    if (topic !== deviceTopic(deviceId, 'ack')) return;
    const parsed = parseAck(payload);
    if (parsed.ok) acks.push(parsed.message);
  });
  client.on('error', () => undefined);
  const { sessionPresent } = await new Promise<{ sessionPresent: boolean }>((resolve) => client.once('connect', resolve));
  (client.stream as { setNoDelay?: (v: boolean) => void }).setNoDelay?.(true);
  return { client, acks, commands, sessionPresent };
}

/** A node's Redis commands time out after this (COMMAND_TIMEOUT_MS in broker/src/shared-state.ts). */
const REDIS_COMMAND_TIMEOUT_MS = 2_000;
/** At shutdown, a Redis connection that does not end is destroyed after this (broker/src/shared-state.ts). */
const REDIS_DISCONNECT_TIMEOUT_MS = 500;

/**
 * Resolves once a message published on node `from` reaches a subscriber on node `to`: the node's
 * Redis subscriptions, renewed in order on one connection after an outage, are in place again.
 */
async function crossing(from: TestPlatform, to: TestPlatform): Promise<void> {
  const { username, password } = from.running.config.internal;
  const id = `crossing-${randomBytes(4).toString('hex')}`;
  const topic = `amr/test/${id}`;
  const subscriber = await connectClient(to.mqttUrl, { clientId: `${id}-sub`, username, password });
  const publisher = await connectClient(from.mqttUrl, { clientId: `${id}-pub`, username, password });
  try {
    const arrived = new Promise<void>((resolve) => subscriber.once('message', () => resolve()));
    await subscriber.subscribeAsync(topic, { qos: 1 });
    let crossed = false;
    void arrived.then(() => (crossed = true));
    // A message published before the subscription reached Redis is not delivered: publish again
    // until one is.
    while (!crossed) {
      await publisher.publishAsync(topic, Buffer.from('probe'), { qos: 1 });
      await Promise.race([arrived, new Promise((resolve) => setTimeout(resolve, 50))]);
    }
  } finally {
    await subscriber.endAsync(true);
    await publisher.endAsync(true);
  }
}

const redisUrl = process.env.TEST_REDIS_URL;
const runs = Boolean(process.env.TEST_DATABASE_URL && redisUrl);

(runs ? describe : describe.skip)(
  `shared brokers: two nodes over one Redis and one PostgreSQL${runs ? '' : ' (skipped: set TEST_DATABASE_URL and TEST_REDIS_URL)'}`,
  () => {
    // Keys and channels of this run only: other things use this Redis.
    const prefix = `amr-test-${randomBytes(4).toString('hex')}:`;
    const target = new URL(redisUrl ?? 'redis://127.0.0.1:6379');
    const shared = { REDIS_URL: target.href, AMR_REDIS_PREFIX: prefix, AMR_INTERNAL_SECRET: randomBytes(16).toString('hex') };
    let relay: CuttableRelay;
    let dbA: DataSource;
    let dbB: DataSource;
    let a: TestPlatform;
    let b: TestPlatform;

    beforeAll(async () => {
      relay = await CuttableRelay.start(target);
      dbA = await openTestDatabase();
      dbB = await openDatabase({ url: process.env.TEST_DATABASE_URL, dataDir: 'memory://' });
      // Node A reaches Redis through the relay, so that the last test can take Redis away from it.
      a = await startTestPlatform(dbA, { ...shared, REDIS_URL: relay.url(target), AMR_NODE_ID: 'node-a' });
      b = await startTestPlatform(dbB, { ...shared, AMR_NODE_ID: 'node-b' });
    }, BOOT_TIMEOUT_MS);

    afterAll(async () => {
      await a?.close();
      await b?.close();
      if (dbA) await closeDatabase(dbA);
      if (dbB) await closeDatabase(dbB);
      await relay?.close();
      const redis = new Redis(target.href);
      try {
        const keys = (await redis.keys(`${prefix}*`)) as string[];
        if (keys.length > 0) await redis.del(...keys);
      } finally {
        redis.disconnect();
      }
    }, BOOT_TIMEOUT_MS);

    const health = (platform: TestPlatform, id: string) => platform.api().get(`/devices/${id}`).expect(200).then((r) => r.body);

    it('delivers an ack published on node B to a device connected to node A', async () => {
      const { deviceId, secret } = await a.provision();
      const device = await TestDevice.connect(a.mqttUrl, deviceId, secret);
      try {
        await device.press({ seq: 1 });
        const { alarm } = await device.stage('received', 1);
        await b.api().post(`/alarms/${alarm}/accept`).expect(200);
        expect(await device.stage('accepted', 1)).toMatchObject({ alarm, vib: 'double' });
      } finally {
        await device.close();
      }
    });

    it('keeps a persistent session in Redis: what was queued while offline arrives on the other node, without subscribing again', async () => {
      const { deviceId, secret } = await a.provision();
      const first = await sessionClient(a.mqttUrl, deviceId, secret);
      await first.client.subscribeAsync(deviceTopic(deviceId, 'ack'), { qos: 1 });
      await first.client.subscribeAsync(deviceTopic(deviceId, 'cmd'), { qos: 1 });
      await first.client.publishAsync(deviceTopic(deviceId, 'alarm'), Buffer.from(JSON.stringify({ seq: 4 })), { qos: 1 });
      await eventually(async () => first.acks, (acks) => acks.some((x) => x.stage === 'received'));
      const alarm = first.acks[0]!.alarm!;
      await first.client.endAsync();

      // Offline: the stage and a command are published, from either node.
      await a.api().post(`/alarms/${alarm}/accept`).expect(200);
      const command = (await b.api().post(`/devices/${deviceId}/commands`, { cmd: 'locate' }).expect(201)).body;

      // Reconnecting to B with no SUBSCRIBE: no reminder from the platform is asked for, so what
      // arrives comes from the session aedes-persistence-redis kept (a session in A's memory
      // would be unknown to B: sessionPresent false, nothing delivered).
      const again = await sessionClient(b.mqttUrl, deviceId, secret);
      try {
        expect(again.sessionPresent).toBe(true);
        await eventually(async () => again.acks, (acks) => acks.some((x) => x.stage === 'accepted' && x.alarm === alarm));
        await eventually(async () => again.commands, (c) => c.some((x) => (x as { message?: { cmd?: string } }).message?.cmd === 'locate'));
        // …and its PUBACK on B marks it delivered.
        await eventually(
          () => b.api().get(`/devices/${deviceId}/commands`).then((r) => r.body as { id: string; state: string }[]),
          (c) => c.some((x) => x.id === command.id && x.state === 'delivered'),
        );
      } finally {
        await again.client.endAsync();
      }
    });

    it('cuts a device connected to node A when node B deactivates it, before anything node B sends afterwards', async () => {
      const { deviceId, secret } = await a.provision();
      const device = await TestDevice.connect(a.mqttUrl, deviceId, secret);
      // Another device on node A, with an alarm that node B will accept once it has deactivated the first.
      const witness = await a.provision();
      const onA = await TestDevice.connect(a.mqttUrl, witness.deviceId, witness.secret);
      try {
        expect(await device.statusOrCut()).toBe('served');
        await onA.press({ seq: 1 });
        const { alarm } = await onA.stage('received', 1);

        await b.api().post(`/devices/${deviceId}/deactivate`).expect(200);
        await b.api().post(`/alarms/${alarm}/accept`).expect(200);
        // The cut and the ack travel the same way from node B to node A, in that order: once the ack
        // is in, node A serves the deactivated device no more, and its connection closes.
        await onA.stage('accepted', 1);
        expect(await device.statusOrCut()).toBe('cut');
        await device.closed;
      } finally {
        await device.close();
        await onA.close();
      }
    });

    it('hands a device over from node A to node B, closing the older connection, and keeps it connected', async () => {
      const { deviceId, secret } = await a.provision();
      const onA = await TestDevice.connect(a.mqttUrl, deviceId, secret);
      await eventually(() => health(b, deviceId), (h) => h.connected === true);
      const closedOnA = new Promise<void>((resolve) => onA.client.once('close', () => resolve()));
      const onB = await TestDevice.connect(b.mqttUrl, deviceId, secret);
      try {
        await closedOnA;
        // Node A's late "disconnected" has been recorded (its disconnect event), then both nodes'
        // connection writes are flushed: B's "connected" must stand, whichever landed last.
        await new Promise((resolve) => setTimeout(resolve, 200));
        await Promise.all([a, b].map((node) => node.running.app.get(ConnectionState).flush()));
        expect(await health(a, deviceId)).toMatchObject({ connected: true });
        // The device is served on B: a press is answered there.
        await onB.press({ seq: 1 });
        await onB.stage('received', 1);
      } finally {
        await onA.close();
        await onB.close();
      }
      await eventually(() => health(a, deviceId), (h) => h.connected === false);
    });

    it('still stores and answers presses on node A while Redis is unreachable, and shares again once it is back', async () => {
      const redisOnA = () => Promise.resolve(a.running.app.get(MqttBroker).redisReachable);
      const { deviceId, secret } = await a.provision();
      const persistent = await sessionClient(a.mqttUrl, deviceId, secret);
      await persistent.client.subscribeAsync(deviceTopic(deviceId, 'ack'), { qos: 1 });
      const other = await a.provision();
      const clean = await TestDevice.connect(a.mqttUrl, other.deviceId, other.secret);
      try {
        relay.down();
        await eventually(redisOnA, (reachable) => reachable === false);

        // A device with a persistent session: its press is stored, PUBACKed and acked at once, while
        // Redis is still unreachable — sooner than a Redis command made for it could have timed out,
        // so the node did not wait for Redis before falling back.
        const sent = performance.now();
        await persistent.client.publishAsync(deviceTopic(deviceId, 'alarm'), Buffer.from(JSON.stringify({ seq: 1 })), { qos: 1 });
        await eventually(async () => persistent.acks, (acks) => acks.some((x) => x.stage === 'received'));
        expect(performance.now() - sent).toBeLessThan(REDIS_COMMAND_TIMEOUT_MS);
        expect(await redisOnA()).toBe(false);
        expect(persistent.client.connected).toBe(true);
        // A clean-session device likewise, and node A's own API still reaches it.
        await clean.press({ seq: 1 });
        const { alarm } = await clean.stage('received', 1);
        await a.api().post(`/alarms/${alarm}/accept`).expect(200);
        await clean.stage('accepted', 1);

        relay.up();
        await eventually(redisOnA, (reachable) => reachable === true, 10_000);
        await crossing(b, a); // node A's subscriptions renewed
        await b.api().post(`/alarms/${alarm}/dispatch`, { unit: 'ANT-7' }).expect(200);
        await clean.stage('dispatched', 1);
      } finally {
        relay.up();
        await persistent.client.endAsync(true);
        await clean.close();
      }
    }, 30_000);

    it('gives a device on the other node the `accepted` made while Redis was unreachable, once it is back', async () => {
      const redisOnA = () => Promise.resolve(a.running.app.get(MqttBroker).redisReachable);
      const { deviceId, secret } = await b.provision();
      const onB = await TestDevice.connect(b.mqttUrl, deviceId, secret);
      try {
        await onB.press({ seq: 1 });
        const { alarm } = await onB.stage('received', 1);
        relay.down();
        await eventually(redisOnA, (reachable) => reachable === false);
        // Node A's API takes the accept (the database is there); its ack cannot cross to node B.
        await a.api().post(`/alarms/${alarm}/accept`).expect(200);
        await new Promise((resolve) => setTimeout(resolve, 300));
        expect(onB.acks.some((x) => x.stage === 'accepted')).toBe(false);

        relay.up();
        expect((await onB.stage('accepted', 1, 10_000)).alarm).toBe(alarm);
      } finally {
        relay.up();
        await onB.close();
      }
    }, 30_000);

    it('shuts a node down while Redis is unreachable about as fast as while it is there', async () => {
      const own = await CuttableRelay.start(target);
      const [c, d] = await Promise.all([
        startTestPlatform(dbB, { ...shared, REDIS_URL: own.url(target), AMR_NODE_ID: 'node-c' }),
        startTestPlatform(dbB, { ...shared, AMR_NODE_ID: 'node-d' }),
      ]);
      const timedClose = async (node: TestPlatform) => {
        const started = performance.now();
        await node.close();
        return performance.now() - started;
      };
      try {
        // The baseline: the same shutdown with Redis there.
        const withRedis = await timedClose(d);
        own.down();
        await eventually(() => Promise.resolve(c.running.app.get(MqttBroker).redisReachable), (reachable) => reachable === false);
        const withoutRedis = await timedClose(c);
        // A Redis connection that does not end by itself is destroyed after 500 ms: allow four times
        // that over the baseline. Waiting for Redis (a reconnection, a connect timeout of 5 s) is more.
        expect(withoutRedis).toBeLessThan(withRedis + 4 * REDIS_DISCONNECT_TIMEOUT_MS);
      } finally {
        await own.close();
      }
    }, 60_000);
  },
);
