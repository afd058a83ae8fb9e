import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { parseAlarm } from '@amr/protocol';
import { usePlatform } from './support/platform.js';
import { TestDevice } from './support/device.js';
import { FUZZ_SEED, anyAlarmPayload, anyLocPayload, anyStatusPayload } from './support/payload-arbitraries.js';

/**
 * Generated payloads from one real button, over MQTT, into the real platform: valid and broken
 * presses, positions and heartbeats in both encodings, hostile bytes, payloads just under and over
 * 1 KiB. Each press gets exactly one ack — `received` when valid, `rejected` with a reason when
 * not — the connection and the process survive, and another button is answered meanwhile.
 * AMR_FUZZ_MQTT_PAYLOADS sets the count (300), AMR_FUZZ_SEED replays a run.
 */
const PAYLOADS = Number(process.env.AMR_FUZZ_MQTT_PAYLOADS || 300);
const SENTINEL_SEQ = 4_000_000_000;

type Message = { channel: 'alarm' | 'loc' | 'status'; payload: Buffer };
const message: fc.Arbitrary<Message> = fc.oneof(
  { weight: 3, arbitrary: anyAlarmPayload.map((payload) => ({ channel: 'alarm' as const, payload })) },
  { weight: 1, arbitrary: anyLocPayload.map((payload) => ({ channel: 'loc' as const, payload })) },
  { weight: 1, arbitrary: anyStatusPayload.map((payload) => ({ channel: 'status' as const, payload })) },
);

/** A publish not acknowledged in time fails the test at once, naming the payload. */
function within<T>(ms: number, promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(what)), ms)));
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

describe('device intake under generated payloads, end to end', () => {
  const suite = usePlatform();
  let fuzzer: TestDevice;
  let bystander: TestDevice;
  let disconnects = 0;

  beforeAll(async () => {
    const a = await suite.platform.provision('cic-antwerpen');
    const b = await suite.platform.provision('cic-namur');
    fuzzer = await TestDevice.connect(suite.platform.mqttUrl, a.deviceId, a.secret);
    bystander = await TestDevice.connect(suite.platform.mqttUrl, b.deviceId, b.secret);
    fuzzer.client.on('close', () => disconnects++);
  });

  afterAll(async () => {
    await fuzzer?.close();
    await bystander?.close();
  });

  it(`answers each of ${PAYLOADS} generated messages as the protocol says, on one connection`, async () => {
    const messages = fc.sample(message, { numRuns: PAYLOADS, seed: FUZZ_SEED });
    const rejectedBefore = await suite.platform.metric('amr_device_messages_rejected_total', { channel: 'alarm' });
    const tally = { alarm: 0, received: 0, rejected: 0, loc: 0, status: 0 };
    const started = Date.now();

    for (const [i, { channel, payload }] of messages.entries()) {
      tally[channel]++;
      if (i === Math.floor(PAYLOADS / 2)) {
        // another button, pressed in the middle of the stream, is answered as usual
        await bystander.press({ seq: 1 });
        await bystander.stage('received', 1);
      }
      const acksBefore = fuzzer.acks.length;
      await within(5_000, fuzzer.publishRaw(channel, payload), `no PUBACK for ${channel} payload ${payload.toString('hex').slice(0, 200)}`);
      if (channel !== 'alarm') continue;
      const ack = await fuzzer.ack((a) => fuzzer.acks.indexOf(a) === acksBefore);
      const parsed = parseAlarm(payload);
      if (parsed.ok) {
        tally.received++;
        expect(ack).toMatchObject({ stage: 'received', seq: parsed.message.seq, alarm: expect.any(String) });
      } else {
        tally.rejected++;
        expect(ack).toMatchObject({ stage: 'rejected', vib: 'long', reason: expect.any(String) });
        expect(ack.reason!.length).toBeGreaterThan(0);
        expect(ack.seq).toBe(parsed.seq);
      }
    }

    // A last valid press: its `received` comes after every earlier answer, so any stray or repeated
    // ack would show up before it.
    await fuzzer.press({ seq: SENTINEL_SEQ });
    await fuzzer.stage('received', SENTINEL_SEQ);
    expect(fuzzer.acks).toHaveLength(tally.alarm + 1);
    expect(fuzzer.acks.filter((a) => a.stage === 'rejected')).toHaveLength(tally.rejected);
    expect(await suite.platform.metric('amr_device_messages_rejected_total', { channel: 'alarm' })).toBe(rejectedBefore + tally.rejected);

    expect(fuzzer.client.connected).toBe(true);
    expect(disconnects).toBe(0);
    await bystander.press({ seq: 2 });
    await bystander.stage('received', 2);
    await suite.platform.http.get('/health').expect(200);

    process.stdout.write(
      `MQTT intake fuzz (seed ${FUZZ_SEED}): ${PAYLOADS} messages in ${((Date.now() - started) / 1000).toFixed(1)} s — ` +
        `${tally.alarm} presses (${tally.received} received, ${tally.rejected} rejected, one ack each), ${tally.loc} positions, ${tally.status} heartbeats; ` +
        `0 disconnects, the other button answered\n`,
    );
  }, 120_000);

  it('stores a valid press whose numbers lie beyond what a float4 column holds (found by this fuzzer)', async () => {
    for (const [i, extreme] of [2.5e-322, 1e300].entries()) {
      const seq = 10 + i;
      await bystander.press({ seq, loc: { lat: 50.4674, lon: 4.872, acc: extreme }, cell: { rsrp: -extreme > -200 ? -extreme : -199.5 } }, 'json');
      await bystander.stage('received', seq);
    }
    // positions and heartbeats are PUBACKed only once stored
    await within(5_000, bystander.publishRaw('loc', Buffer.from(JSON.stringify({ seq: 1, lat: 50.4674, lon: 4.872, acc: 1e300 }))), 'loc not stored');
    await within(5_000, bystander.publishRaw('status', Buffer.from(JSON.stringify({ seq: 1, rsrp: -2.5e-322 }))), 'status not stored');
    expect(bystander.acks.filter((a) => a.stage === 'rejected')).toHaveLength(0);
    expect(bystander.client.connected).toBe(true);
  });
});
