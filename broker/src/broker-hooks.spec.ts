import type { Socket } from 'node:net';
import { duplexPair, type Duplex } from 'node:stream';
import { afterEach, describe, expect, it } from '@jest/globals';
import { Aedes, type PublishPacket } from 'aedes';
import { generate, parser, type IConnackPacket, type IPublishPacket, type ISubackPacket, type Packet } from 'mqtt-packet';
import { loadConfig } from '@amr/config';
import { MAX_PAYLOAD_BYTES, deviceTopic, encodePayload, parseAck, type DownChannel, type UpChannel } from '@amr/protocol';
import { DeviceFlooding, IngestPort, Metrics, type DeviceIngest } from '@amr/runtime';
import { hashSecret, newSecret } from '@amr/security';
import { AuthThrottle } from './auth-throttle.js';
import { ConnectionGate } from './connection-gate.js';
import { DeviceAuthenticator } from './device-authenticator.js';
import type { DeviceCredentials, StoredCredentials } from './device-credentials.js';
import { policyHooks } from './broker-hooks.js';
import { TopicPolicy, grantAtMostQos1 } from './topic-policy.js';

const INTERNAL_SECRET = 'internal-secret-for-the-hooks-0123';
const WAIT_MS = 5_000;

/** One end of an in-memory MQTT connection: packets written with mqtt-packet, the broker's answers parsed. */
class MemoryClient {
  private readonly packets: Packet[] = [];
  private readonly waiters: (() => void)[] = [];
  closed = false;
  readonly closing: Promise<void>;

  constructor(
    private readonly wire: Duplex,
    brokerSide: Duplex,
  ) {
    const incoming = parser({ protocolVersion: 4 });
    incoming.on('packet', (packet: Packet) => {
      this.packets.push(packet);
      for (const wake of this.waiters.splice(0)) wake();
    });
    wire.on('data', (chunk: Buffer) => incoming.parse(chunk));
    this.closing = new Promise((resolve) =>
      brokerSide.once('close', () => {
        this.closed = true;
        for (const wake of this.waiters.splice(0)) wake();
        resolve();
      }),
    );
  }

  send(packet: Packet): void {
    this.wire.write(generate(packet));
  }

  /** Takes the first packet of that type the broker sent, waiting for it if need be. */
  async next<C extends Packet['cmd']>(cmd: C): Promise<Extract<Packet, { cmd: C }>> {
    const deadline = Date.now() + WAIT_MS;
    for (;;) {
      const index = this.packets.findIndex((p) => p.cmd === cmd);
      if (index >= 0) return this.packets.splice(index, 1)[0] as Extract<Packet, { cmd: C }>;
      if (this.closed) throw new Error(`connection closed before a ${cmd} arrived`);
      if (Date.now() > deadline) throw new Error(`no ${cmd} within ${WAIT_MS} ms`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 50).unref();
      });
    }
  }

  /** Whether a packet of that type has arrived (and not been taken). */
  has(cmd: Packet['cmd']): boolean {
    return this.packets.some((p) => p.cmd === cmd);
  }

  /** A round trip: every packet the broker sent before its PINGRESP has arrived. */
  async ping(): Promise<void> {
    this.send({ cmd: 'pingreq' });
    await this.next('pingresp');
  }

  async connect(clientId: string, username?: string, password?: string): Promise<IConnackPacket> {
    this.send({
      cmd: 'connect',
      protocolId: 'MQTT',
      protocolVersion: 4,
      clientId,
      clean: true,
      keepalive: 60,
      ...(username !== undefined && { username }),
      ...(password !== undefined && { password: Buffer.from(password) }),
    });
    return this.next('connack');
  }

  async subscribe(messageId: number, subscriptions: { topic: string; qos: 0 | 1 | 2 }[]): Promise<ISubackPacket> {
    this.send({ cmd: 'subscribe', messageId, subscriptions });
    return this.next('suback');
  }

  publish(topic: string, payload: Buffer, options: { messageId?: number; retain?: boolean } = {}): void {
    const packet: IPublishPacket = { cmd: 'publish', topic, payload, qos: 0, retain: options.retain ?? false, dup: false };
    this.send(options.messageId === undefined ? packet : { ...packet, qos: 1, messageId: options.messageId });
  }
}

/** The device ingest of the process, in memory: records what the broker handed over, and answers as told. */
class RecordingIngest implements DeviceIngest {
  readonly messages: { deviceId: string; channel: UpChannel; payload: string }[] = [];
  readonly subscriptions: { deviceId: string; channels: readonly DownChannel[] }[] = [];
  outcome: () => Promise<void> = async () => undefined;
  private arrived: (() => void)[] = [];

  publish(deviceId: string, channel: UpChannel, payload: Buffer): Promise<void> {
    this.messages.push({ deviceId, channel, payload: payload.toString() });
    for (const wake of this.arrived.splice(0)) wake();
    return this.outcome();
  }

  subscribed(deviceId: string, channels: readonly DownChannel[]): void {
    this.subscriptions.push({ deviceId, channels });
  }

  /** Resolves once `count` messages have been handed over. */
  async received(count: number): Promise<void> {
    while (this.messages.length < count) await new Promise<void>((resolve) => this.arrived.push(resolve));
  }
}

/** A held promise, released by the test. */
function held(): { promise: Promise<void>; release: () => void; fail: (err: Error) => void } {
  let release!: () => void;
  let fail!: (err: Error) => void;
  const promise = new Promise<void>((resolve, reject) => ((release = resolve), (fail = reject)));
  return { promise, release, fail };
}

const brokers: Aedes[] = [];

afterEach(async () => {
  await Promise.all(brokers.splice(0).map((b) => new Promise<void>((resolve) => b.close(() => resolve()))));
});

/** aedes with the broker's own policy hooks, as MqttBroker wires them; connections through the gate. */
async function startBroker(env: Record<string, string> = {}) {
  const config = loadConfig({ AMR_INTERNAL_SECRET: INTERNAL_SECRET, ...env });
  const metrics = new Metrics({ processMetrics: false });
  const devices = new Map<string, StoredCredentials>();
  let lookup: Promise<void> = Promise.resolve();
  const credentials = {
    find: async (id: string) => {
      await lookup;
      return devices.get(id);
    },
    upgrade: async () => undefined,
  } as unknown as DeviceCredentials;
  const auth = new DeviceAuthenticator(config, credentials, new AuthThrottle(config), metrics);
  const ingest = new RecordingIngest();
  const port = new IngestPort();
  port.attach(ingest);
  const policy = new TopicPolicy(auth, port, metrics);
  const gate = new ConnectionGate(config, metrics);
  const aedes = await Aedes.createBroker({ ...policyHooks(gate, auth, policy) });
  brokers.push(aedes);
  policy.bind((packet: PublishPacket) => new Promise<void>((resolve, reject) => aedes.publish(packet, (e) => (e ? reject(e) : resolve()))));
  aedes.on('subscribe', policy.onSubscribe);
  aedes.on('clientReady', (client) => gate.ready(client.conn, auth.principalOf(client)?.kind === 'internal', client.id, !client.clean));

  const open = (address = '192.0.2.10') => {
    const [device, broker] = duplexPair();
    Object.assign(broker, { remoteAddress: address });
    const client = new MemoryClient(device, broker);
    if (gate.admit(broker as unknown as Socket)) grantAtMostQos1(aedes.handle(broker));
    return client;
  };
  const provision = (id: string, active = true) => {
    const secret = newSecret();
    devices.set(id, { id, secretHash: hashSecret(secret), active, certFingerprint: null });
    return secret;
  };
  /** A connected device, CONNACK 0 checked. */
  const device = async (id: string) => {
    const secret = provision(id);
    const client = open();
    expect((await client.connect(id, id, secret)).returnCode).toBe(0);
    return client;
  };
  const internal = async () => {
    const client = open('127.0.0.1');
    expect((await client.connect('platform-routing', config.internal.username, INTERNAL_SECRET)).returnCode).toBe(0);
    return client;
  };
  const holdLookups = () => {
    const hold = held();
    lookup = hold.promise;
    return hold.release;
  };
  const total = (name: string, labels: Record<string, string> = {}) => metrics.total(name, labels);
  return { open, provision, device, internal, ingest, holdLookups, total };
}

const press = (seq: number) => encodePayload({ seq, ts: 1_764_500_000 }, 'json');

describe('broker policy hooks (aedes over an in-memory connection)', () => {
  it('admits a device with its own secret, and refuses a wrong secret, a borrowed id, a missing password and a deactivated device with CONNACK 5', async () => {
    const { open, provision, total } = await startBroker();
    const secret = provision('btn-alice');
    const otherSecret = provision('btn-bob');
    provision('btn-retired', false);

    const alice = open();
    expect(await alice.connect('btn-alice', 'btn-alice', secret)).toMatchObject({ returnCode: 0, sessionPresent: false });

    const refused = [
      ['btn-alice', 'btn-alice', 'not-the-secret'],
      ['btn-alice', 'btn-bob', otherSecret],
      ['btn-alice', 'btn-alice', undefined],
      ['btn-retired', 'btn-retired', 'anything'],
    ] as const;
    for (const [clientId, username, password] of refused) {
      const client = open();
      expect((await client.connect(clientId, username, password)).returnCode).toBe(5);
      await client.closing; // a refused CONNECT ends the connection
    }
    expect(alice.closed).toBe(false);
    expect(await total('amr_mqtt_connect_refused_total', { reason: 'bad-secret' })).toBe(1);
    expect(await total('amr_mqtt_connect_refused_total', { reason: 'client-id-mismatch' })).toBe(1);
    expect(await total('amr_mqtt_connect_refused_total', { reason: 'anonymous' })).toBe(1);
    expect(await total('amr_mqtt_connect_refused_total', { reason: 'deactivated' })).toBe(1);
  });

  it('hands a press on the device’s own alarm topic to the ingest, and PUBACKs it only once the ingest is done', async () => {
    const { device, ingest } = await startBroker();
    const alice = await device('btn-alice');
    const bob = await device('btn-bob');
    const storing = held();
    ingest.outcome = () => storing.promise;

    alice.publish(deviceTopic('btn-alice', 'alarm'), press(7), { messageId: 7 });
    await ingest.received(1);
    expect(ingest.messages).toEqual([{ deviceId: 'btn-alice', channel: 'alarm', payload: press(7).toString() }]);
    // The broker answers other devices meanwhile, and still owes this one its PUBACK.
    await bob.ping();
    expect(alice.has('puback')).toBe(false);

    storing.release();
    expect((await alice.next('puback')).messageId).toBe(7);
  });

  it('closes the connection of a device publishing to another device’s topic or to a down topic, and hands nothing over', async () => {
    const { device, ingest, total } = await startBroker();
    for (const [id, topic] of [
      ['btn-alice', deviceTopic('btn-bob', 'alarm')],
      ['btn-carol', deviceTopic('btn-carol', 'ack')],
      ['btn-dave', 'amr/v1/dev/btn-dave'],
    ] as const) {
      const client = await device(id);
      client.publish(topic, press(1), { messageId: 1 });
      await client.closing;
      expect(client.has('puback')).toBe(false);
    }
    expect(ingest.messages).toEqual([]);
    expect(await total('amr_mqtt_publish_refused_total', { reason: 'topic' })).toBe(3);
  });

  it('answers a retained press and an oversize press with a PUBACK and a `rejected` ack naming the fault, without handing them over', async () => {
    const { device, ingest, total } = await startBroker();
    const alice = await device('btn-alice');
    expect((await alice.subscribe(1, [{ topic: deviceTopic('btn-alice', 'ack'), qos: 1 }])).granted).toEqual([1]);

    alice.publish(deviceTopic('btn-alice', 'alarm'), press(1), { messageId: 2, retain: true });
    expect((await alice.next('puback')).messageId).toBe(2);
    const retained = await alice.next('publish');
    expect(retained.topic).toBe(deviceTopic('btn-alice', 'ack'));
    expect(parseAck(retained.payload as Buffer)).toMatchObject({
      ok: true,
      encoding: 'json', // answered in the encoding of the press
      message: { stage: 'rejected', reason: 'retained publish refused: publish with retain off' },
    });

    const oversize = Buffer.concat([press(2), Buffer.alloc(MAX_PAYLOAD_BYTES, 0x20)]);
    alice.publish(deviceTopic('btn-alice', 'alarm'), oversize, { messageId: 3 });
    expect((await alice.next('puback')).messageId).toBe(3);
    const tooLarge = await alice.next('publish');
    expect(parseAck(tooLarge.payload as Buffer)).toMatchObject({
      ok: true,
      message: { stage: 'rejected', reason: `payload too large: ${oversize.length} bytes, max ${MAX_PAYLOAD_BYTES}` },
    });

    expect(ingest.messages).toEqual([]);
    expect(alice.closed).toBe(false);
    expect(await total('amr_device_messages_rejected_total', { channel: 'alarm', code: 'retained' })).toBe(1);
    expect(await total('amr_device_messages_rejected_total', { channel: 'alarm', code: 'oversize' })).toBe(1);
  });

  it('withholds the PUBACK and closes the connection when the ingest fails, so that the device sends the press again', async () => {
    const { device, ingest } = await startBroker();
    const flooding = await device('btn-alice');
    ingest.outcome = async () => {
      throw new DeviceFlooding('btn-alice', 32);
    };
    flooding.publish(deviceTopic('btn-alice', 'alarm'), press(1), { messageId: 1 });
    await flooding.closing;
    expect(flooding.has('puback')).toBe(false);

    const failing = await device('btn-bob');
    ingest.outcome = async () => {
      throw new Error('database unreachable');
    };
    failing.publish(deviceTopic('btn-bob', 'alarm'), press(1), { messageId: 1 });
    await failing.closing;
    expect(failing.has('puback')).toBe(false);
    expect(ingest.messages.map((m) => m.deviceId)).toEqual(['btn-alice', 'btn-bob']);
  });

  it('grants a device its own down topics at QoS 1 at most, refuses any other with 0x80, and asks for a reminder of what it is owed', async () => {
    const { device, ingest, total } = await startBroker();
    const alice = await device('btn-alice');
    const suback = await alice.subscribe(5, [
      { topic: deviceTopic('btn-alice', 'ack'), qos: 2 },
      { topic: deviceTopic('btn-alice', 'cmd'), qos: 0 },
      { topic: deviceTopic('btn-bob', 'ack'), qos: 1 },
      { topic: deviceTopic('btn-alice', 'alarm'), qos: 1 },
      { topic: 'amr/v1/dev/+/cmd', qos: 1 },
    ]);
    expect(suback).toMatchObject({ messageId: 5, granted: [1, 0, 128, 128, 128] });
    expect(ingest.subscriptions).toEqual([{ deviceId: 'btn-alice', channels: ['ack', 'cmd'] }]);
    expect(await total('amr_mqtt_subscribe_refused_total')).toBe(3);
  });

  it('lets the platform’s internal client subscribe to every device and publish to a device’s down topic', async () => {
    const { device, internal } = await startBroker();
    const routing = await internal();
    expect((await routing.subscribe(1, [{ topic: 'amr/v1/dev/+/status', qos: 1 }])).granted).toEqual([1]);
    const alice = await device('btn-alice');
    await alice.subscribe(1, [{ topic: deviceTopic('btn-alice', 'cmd'), qos: 1 }]);

    const status = encodePayload({ bat: 80, ts: 1_764_500_000 }, 'json');
    alice.publish(deviceTopic('btn-alice', 'status'), status, { messageId: 9 });
    await alice.next('puback');
    const seen = await routing.next('publish');
    expect({ topic: seen.topic, payload: seen.payload.toString() }).toEqual({ topic: deviceTopic('btn-alice', 'status'), payload: status.toString() });

    const command = encodePayload({ cmd: 'locate' }, 'json');
    routing.publish(deviceTopic('btn-alice', 'cmd'), command, { messageId: 4 });
    expect((await routing.next('puback')).messageId).toBe(4);
    expect((await alice.next('publish')).payload.toString()).toBe(command.toString());
  });

  it('lets a CONNECT read in time wait for its authentication, and closes a connection that sends none by the deadline', async () => {
    const { open, provision, holdLookups, total } = await startBroker({ MQTT_CONNECT_TIMEOUT_MS: '200' });
    const secret = provision('btn-alice');
    const release = holdLookups();
    const waiting = open();
    const connack = waiting.connect('btn-alice', 'btn-alice', secret);
    const silent = open('198.51.100.7');

    await silent.closing;
    expect(await total('amr_mqtt_connections_closed_total', { reason: 'connect-timeout' })).toBe(1);
    // The deadline of the silent one has passed for both; the one whose CONNECT was read lives on.
    expect(waiting.closed).toBe(false);
    release();
    expect((await connack).returnCode).toBe(0);
  });
});
