/**
 * The button model against a real MQTT broker (aedes, in process, on an ephemeral port) with a
 * stand-in for the platform that answers presses with acks built by @amr/protocol. The platform
 * itself is not started here: the end-to-end suites drive the CLI against it.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { mkdtemp, rm } from 'node:fs/promises';
import * as net from 'node:net';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Aedes, type AedesPublishPacket } from 'aedes';
import {
  deviceTopic,
  encodePayload,
  encodeSmsAck,
  makeAck,
  parseSmsAlarm,
  smsKey,
  splitSms,
  verifySmsMac,
  parseAlarm,
  parseDeviceTopic,
  type AckStage,
  type AlarmMessage,
  type Encoding,
} from '@amr/protocol';
import { Button, ConnectError, RefusedError, type AckEvent, type ButtonConfig } from './button.js';

/** What the stand-in platform does with one received alarm publish. */
type Responder = (alarm: AlarmMessage, copy: number, reply: (stage: AckStage, fields?: { seq?: number; alarm?: string; reason?: string }) => void) => void;

interface TestBroker {
  url: string;
  /** Every alarm publish seen, decoded, per device. */
  alarms: Array<{ deviceId: string; alarm: AlarmMessage; encoding: Encoding }>;
  respond: Responder;
  refuse: boolean;
  /** Forgets the alarms seen and how many copies of each press arrived. */
  reset(): void;
  close(): Promise<void>;
}

async function startBroker(): Promise<TestBroker> {
  const state: TestBroker = {
    url: '',
    alarms: [],
    respond: (alarm, _copy, reply) => reply('received'),
    refuse: false,
    reset: () => undefined,
    close: async () => undefined,
  };
  const broker = await Aedes.createBroker({
    authenticate: (_client, _username, password, done) => {
      if (state.refuse || password?.toString() === 'wrong') {
        done(Object.assign(new Error('not authorized'), { returnCode: 5 }) as never, null);
      } else done(null, true);
    },
  });
  const copies = new Map<string, number>();
  state.reset = () => {
    state.alarms.length = 0;
    copies.clear();
  };
  await new Promise<void>((resolve) =>
    broker.subscribe(
      'amr/v1/dev/+/alarm',
      (packet: AedesPublishPacket, done: () => void) => {
        done();
        const deviceId = parseDeviceTopic(packet.topic)!.deviceId;
        const parsed = parseAlarm(packet.payload as Buffer);
        if (!parsed.ok) return;
        state.alarms.push({ deviceId, alarm: parsed.message, encoding: parsed.encoding });
        const key = `${deviceId}/${parsed.message.seq}`;
        const copy = (copies.get(key) ?? 0) + 1;
        copies.set(key, copy);
        state.respond(parsed.message, copy, (stage, fields = {}) => {
          const ack = makeAck(stage, { seq: parsed.message.seq, alarm: `alarm-of-${deviceId}`, ...fields });
          broker.publish(
            { cmd: 'publish', topic: deviceTopic(deviceId, 'ack'), payload: encodePayload(ack, parsed.encoding), qos: 1, dup: false, retain: false },
            () => undefined,
          );
        });
      },
      resolve,
    ),
  );
  const server: Server = createServer({ noDelay: true }, (socket) => broker.handle(socket));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.url = `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`;
  state.close = async () => {
    await new Promise<void>((resolve) => broker.close(() => resolve()));
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return state;
}

let broker: TestBroker;
let stateDir: string;
const buttons: Button[] = [];

beforeAll(async () => {
  broker = await startBroker();
});
afterAll(async () => {
  await broker.close();
});
beforeEach(async () => {
  stateDir = await mkdtemp(join(tmpdir(), 'amr-sim-button-'));
  broker.reset();
  broker.refuse = false;
  broker.respond = (_alarm, _copy, reply) => reply('received');
});
afterEach(async () => {
  await Promise.all(buttons.splice(0).map((b) => b.close()));
  await rm(stateDir, { recursive: true, force: true });
});

function button(overrides: Partial<ButtonConfig> = {}): Button {
  const b = new Button({ deviceId: 'dev-test-01', secret: 's3cret', mqttUrl: broker.url, encoding: 'cbor', stateDir, connectTimeoutMs: 3000, ...overrides });
  buttons.push(b);
  return b;
}

const fast = { timeoutMs: 1500, retransmitMs: 100 };

describe('Button', () => {
  it('presses: publishes the alarm QoS 1 with seq, ts, kind, loc, bat and measures press → received', async () => {
    const b = button();
    const acks: AckEvent[] = [];
    b.on('ack', (e) => acks.push(e));
    await b.connect();
    const before = Math.floor(Date.now() / 1000);
    const result = await b.press({ ...fast, kind: 'test', loc: { lat: 51.2194, lon: 4.4025, acc: 25, src: 'gnss' }, bat: 87 });
    expect(result).toMatchObject({ seq: 1, kind: 'test', outcome: 'received', retransmissions: 0, alarmId: 'alarm-of-dev-test-01' });
    expect(result.latencyMs).toBeGreaterThan(0);
    expect(result.latencyMs).toBeLessThan(1500);
    expect(broker.alarms).toHaveLength(1);
    const sent = broker.alarms[0]!;
    expect(sent).toMatchObject({ deviceId: 'dev-test-01', encoding: 'cbor' });
    expect(sent.alarm).toMatchObject({ seq: 1, kind: 'test', bat: 87, loc: { lat: 51.2194, lon: 4.4025, acc: 25, src: 'gnss' } });
    expect(sent.alarm.ts).toBeGreaterThanOrEqual(before);
    expect(acks.map((e) => [e.ack.stage, e.ack.vib, e.known, e.repeat])).toEqual([['received', 'short', true, false]]);
    expect(acks[0]!.latencyMs).toBe(result.latencyMs);
  });

  it('encodes in JSON when asked (through @amr/protocol) and reads the JSON acks', async () => {
    const b = button({ encoding: 'json' });
    await b.connect();
    const result = await b.press(fast);
    expect(result.outcome).toBe('received');
    expect(broker.alarms[0]!.encoding).toBe('json');
    expect(b.acks[0]!.encoding).toBe('json');
  });

  it('keeps seq increasing across two button instances of the same device (persisted state)', async () => {
    // no retransmission here: a slow ack on a loaded machine would repeat a seq, which is not what this checks
    const once = { timeoutMs: 1500, retransmitMs: 0 };
    const first = button();
    await first.connect();
    expect((await first.press(once)).seq).toBe(1);
    expect((await first.press(once)).seq).toBe(2);
    await first.close();
    const second = button();
    await second.connect();
    expect((await second.press(once)).seq).toBe(3);
    expect(broker.alarms.map((a) => a.alarm.seq)).toEqual([1, 2, 3]);
    const elsewhere = button({ stateDir: join(stateDir, 'other') });
    await elsewhere.connect();
    expect((await elsewhere.press(once)).seq).toBe(1); // a fresh state dir is a fresh device
  });

  it('retransmits the same press (same seq, same bytes) until received, and counts it', async () => {
    broker.respond = (_alarm, copy, reply) => {
      if (copy >= 3) reply('received'); // the first two copies are "lost"
    };
    const b = button();
    await b.connect();
    const result = await b.press(fast);
    expect(result).toMatchObject({ seq: 1, outcome: 'received', retransmissions: 2 });
    expect(result.latencyMs).toBeGreaterThanOrEqual(190); // two retransmit periods
    expect(broker.alarms.map((a) => a.alarm.seq)).toEqual([1, 1, 1]);
    expect(new Set(broker.alarms.map((a) => JSON.stringify(a.alarm))).size).toBe(1);
  });

  it('gives up after the timeout: the press is lost, retransmissions stop', async () => {
    broker.respond = () => undefined;
    const b = button();
    await b.connect();
    const result = await b.press({ timeoutMs: 450, retransmitMs: 100 });
    expect(result.outcome).toBe('lost');
    expect(result.latencyMs).toBeUndefined();
    expect(result.retransmissions).toBeGreaterThanOrEqual(3);
    const copies = broker.alarms.length;
    await new Promise((r) => setTimeout(r, 250));
    expect(broker.alarms.length).toBe(copies);
  });

  it('does not retransmit with retransmitMs 0', async () => {
    broker.respond = () => undefined;
    const b = button();
    await b.connect();
    const result = await b.press({ timeoutMs: 300, retransmitMs: 0 });
    expect(result).toMatchObject({ outcome: 'lost', retransmissions: 0 });
    expect(broker.alarms).toHaveLength(1);
  });

  it('stops at a rejected ack and keeps its reason', async () => {
    broker.respond = (_alarm, _copy, reply) => reply('rejected', { reason: 'bat: must be 0-100' });
    const b = button();
    await b.connect();
    const result = await b.press(fast);
    expect(result).toMatchObject({ outcome: 'rejected', reason: 'bat: must be 0-100', retransmissions: 0 });
    expect(result.stages.rejected).toBeGreaterThan(0);
    expect(b.acks[0]!.ack).toMatchObject({ stage: 'rejected', vib: 'long' });
  });

  it('reports acks of other seqs without completing the press; latency is per seq', async () => {
    broker.respond = (alarm, copy, reply) => {
      reply('received', { seq: 999 }); // e.g. a late ack queued from an earlier run
      if (copy === 2) reply('received');
      if (copy === 3) reply('received', { seq: alarm.seq }); // answer to a retransmission: real, a repeat
    };
    const b = button();
    const acks: AckEvent[] = [];
    b.on('ack', (e) => acks.push(e));
    await b.connect();
    const result = await b.press({ timeoutMs: 1500, retransmitMs: 100 });
    expect(result).toMatchObject({ seq: 1, outcome: 'received', retransmissions: 1 });
    const foreign = acks.find((e) => e.ack.seq === 999)!;
    expect(foreign).toMatchObject({ known: false });
    expect(foreign.latencyMs).toBeUndefined();
    expect(acks.find((e) => e.ack.seq === 1)!.latencyMs).toBe(result.latencyMs);
  });

  it('waitForAck sees acks that arrived before it was called (from a mark on)', async () => {
    const b = button();
    await b.connect();
    await b.press(fast);
    expect(await b.waitForAck((e) => e.ack.stage === 'received', { timeoutMs: 10 })).toBeDefined();
    expect(await b.waitForAck((e) => e.ack.stage === 'received', { timeoutMs: 10, since: b.acks.length })).toBeUndefined();
  });

  it('is refused with the CONNACK return code on wrong credentials', async () => {
    const b = button({ secret: 'wrong' });
    const refusal = b.connect();
    await expect(refusal).rejects.toThrow(RefusedError);
    await expect(refusal).rejects.toMatchObject({ returnCode: 5, message: 'refused by the broker: not authorized' });
  });

  it('says so when no broker listens', async () => {
    const b = button({ mqttUrl: 'mqtt://127.0.0.1:9' });
    await expect(b.connect()).rejects.toThrow(ConnectError);
  });
});

describe('Button with a list of brokers', () => {
  it('tries the next endpoint when the first cannot be reached', async () => {
    const b = button({ mqttUrl: 'mqtt://127.0.0.1:9', endpoints: ['mqtt://127.0.0.1:9', broker.url], reconnectPeriodMs: 50 });
    await b.connect();
    expect(b.endpoint).toBe(1);
    expect(b.connected).toBe(true);
  });

  it('moves on to the next endpoint when its connection is lost', async () => {
    // endpoint 0: a relay to the broker that dies; endpoint 1: the broker itself
    const sockets = new Set<net.Socket>();
    const target = new URL(broker.url);
    const relay: Server = createServer((inbound) => {
      const outbound = net.connect({ host: target.hostname, port: Number(target.port) });
      sockets.add(inbound).add(outbound);
      inbound.pipe(outbound).pipe(inbound);
      inbound.on('error', () => undefined);
      outbound.on('error', () => undefined);
    });
    await new Promise<void>((r) => relay.listen(0, '127.0.0.1', () => r()));
    const relayUrl = `mqtt://127.0.0.1:${(relay.address() as AddressInfo).port}`;
    const b = button({ mqttUrl: relayUrl, endpoints: [relayUrl, broker.url], reconnectPeriodMs: 50 });
    await b.connect();
    expect(b.endpoint).toBe(0);
    const moved = new Promise<{ endpoint: number; next: number }>((r) => b.once('transport-closed', r));
    const back = new Promise<{ reconnect: boolean }>((r) => b.once('connect', r));
    relay.close();
    for (const s of sockets) s.destroy();
    expect(await moved).toMatchObject({ endpoint: 0, next: 1 });
    expect(await back).toMatchObject({ reconnect: true });
    expect(b.endpoint).toBe(1);
  });
});

describe('Button: the SMS path (CONTRACT §6)', () => {
  const key = smsKey('s3cret');
  /** A button whose texts are collected instead of sent. */
  function smsButton(texts: string[]): Button {
    return button({ sms: { key, send: (text) => texts.push(text) } });
  }
  const received = (seq: number, alarm = 'alarm-by-sms') => encodeSmsAck(makeAck('received', { seq, alarm }), key);

  it('sends the press by SMS (same seq and ts, a valid MAC) when MQTT has not answered within the wait, and takes "received" from an SMS ack', async () => {
    broker.respond = () => undefined; // no answer over MQTT
    const texts: string[] = [];
    const b = smsButton(texts);
    const sent: number[] = [];
    b.on('sms-sent', ({ attempt }) => sent.push(attempt));
    await b.connect();
    const pressing = b.press({ timeoutMs: 3000, retransmitMs: 100, smsAfterMs: 200, smsRetryMs: 10_000, loc: { lat: 51.2194, lon: 4.4025, acc: 25, ts: 1_795_448_550, src: 'gnss' }, bat: 87 });
    await waitUntil(() => texts.length === 1);
    const envelope = splitSms(texts[0]!);
    if (!envelope.ok) throw envelope.error;
    expect(verifySmsMac(key, envelope.value)).toBe(true);
    const press = parseSmsAlarm(envelope.value.payload);
    if (!press.ok) throw press.error;
    expect(press.message.deviceId).toBe('dev-test-01');
    expect(press.message.press).toMatchObject({ seq: 1, ts: broker.alarms[0]!.alarm.ts, bat: 87 });
    const mqttCopies = broker.alarms.length;

    b.receiveSms(received(1));
    const result = await pressing;
    expect(result).toMatchObject({ outcome: 'received', receivedPath: 'sms', smsSent: 1, alarmId: 'alarm-by-sms' });
    expect(result.receivedBy.sms).toBe(result.latencyMs);
    expect(result.receivedBy.mqtt).toBeUndefined();
    expect(sent).toEqual([1]);
    // the first "received" stopped the MQTT retransmissions too
    await new Promise((r) => setTimeout(r, 300));
    expect(broker.alarms.length).toBeLessThanOrEqual(mqttCopies + 1);
  });

  it('sends no SMS when "received" came over MQTT first, and plays a later SMS "received" of the same press only once', async () => {
    const texts: string[] = [];
    const b = smsButton(texts);
    const vibrations: string[] = [];
    b.on('vibrate', ({ stage }) => vibrations.push(stage));
    await b.connect();
    const result = await b.press({ ...fast, smsAfterMs: 1000, smsRetryMs: 1000 });
    expect(result).toMatchObject({ outcome: 'received', receivedPath: 'mqtt', smsSent: 0 });
    await new Promise((r) => setTimeout(r, 1200));
    expect(texts).toEqual([]);
    b.receiveSms(received(1, 'alarm-of-dev-test-01'));
    expect(b.pressResult(1)).toMatchObject({ receivedPath: 'mqtt', receivedBy: { mqtt: expect.any(Number), sms: expect.any(Number) } });
    expect(vibrations).toEqual(['received']);
  });

  it('resends the text while no answer comes, and ignores a text whose MAC does not verify', async () => {
    broker.respond = () => undefined;
    const texts: string[] = [];
    const b = smsButton(texts);
    const invalid: string[] = [];
    b.on('invalid-message', ({ topic }) => invalid.push(topic));
    await b.connect();
    const pressing = b.press({ timeoutMs: 5000, retransmitMs: 1000, smsAfterMs: 0, smsRetryMs: 150 });
    await waitUntil(() => texts.length >= 3);
    expect(new Set(texts).size).toBe(1); // the same press, the same text
    b.receiveSms(encodeSmsAck(makeAck('received', { seq: 1, alarm: 'forged' }), smsKey('not-the-secret')));
    expect(invalid).toEqual(['sms']);
    b.receiveSms(received(1));
    expect(await pressing).toMatchObject({ outcome: 'received', receivedPath: 'sms', alarmId: 'alarm-by-sms' });
  });
});

async function waitUntil(condition: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}
