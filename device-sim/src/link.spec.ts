import { afterEach, describe, expect, it } from '@jest/globals';
import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { NetworkLink } from './link.js';
import { PROFILES, seededRandom, type NetworkProfile, type Random } from './network.js';

/**
 * The shaping link on real loopback sockets, with a profile scaled down to a few hundred
 * milliseconds: no jitter, no loss, fixed wake-up and re-acquisition, a long paging cycle.
 */
const profile: NetworkProfile = {
  ...PROFILES.poor,
  rttMs: 40,
  jitterMs: 0,
  loss: 0,
  uplinkBps: 1e9,
  downlinkBps: 1e9,
  attachMs: { mean: 0, spread: 0 },
  wakeMs: { mean: 150, spread: 0 },
  reacquireMs: { mean: 100, spread: 0 },
  pagingMs: 4000,
  gaps: null,
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Rig {
  link: NetworkLink;
  device: Socket;
  broker: Socket;
  /** performance.now() of each chunk's arrival, per side. */
  atDevice: { at: number; text: string }[];
  atBroker: { at: number; text: string }[];
}

const open: { server?: Server; link?: NetworkLink; device?: Socket } = {};

async function rig(p: NetworkProfile, random: Random): Promise<Rig> {
  let accepted: (socket: Socket) => void = () => undefined;
  const brokerSide = new Promise<Socket>((resolve) => (accepted = resolve));
  const server = createServer((socket) => accepted(socket));
  open.server = server;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const link = new NetworkLink(p, { host: '127.0.0.1', port: (server.address() as AddressInfo).port }, random);
  open.link = link;
  const port = await link.listen();
  link.scheduleGaps([], performance.now());
  const device = connect({ host: '127.0.0.1', port, noDelay: true });
  open.device = device;
  const broker = await brokerSide;
  const atDevice: Rig['atDevice'] = [];
  const atBroker: Rig['atBroker'] = [];
  device.on('data', (b: Buffer) => atDevice.push({ at: performance.now(), text: b.toString() }));
  broker.on('data', (b: Buffer) => atBroker.push({ at: performance.now(), text: b.toString() }));
  // one exchange, so that the radio is connected when the test begins
  device.write('hello');
  await until(() => atBroker.length > 0);
  broker.write('welcome');
  await until(() => atDevice.length > 0);
  atDevice.length = 0;
  atBroker.length = 0;
  return { link, device, broker, atDevice, atBroker };
}

async function until(done: () => boolean, timeoutMs = 8000): Promise<void> {
  const end = performance.now() + timeoutMs;
  while (!done()) {
    if (performance.now() > end) throw new Error('timed out');
    await sleep(5);
  }
}

afterEach(async () => {
  open.device?.destroy();
  await open.link?.close();
  await new Promise<void>((resolve) => (open.server ? open.server.close(() => resolve()) : resolve()));
  open.device = undefined;
  open.link = undefined;
  open.server = undefined;
});

describe('shaping link: the radio through a coverage gap', () => {
  it('delivers a downlink that a gap caught with the device\'s own uplink after it, not at the next paging occasion', async () => {
    const { link, device, broker, atDevice } = await rig(profile, () => 0.5); // paging would be 2 s
    const gapAt = performance.now();
    link.blackout(300);
    await sleep(50);
    broker.write('received'); // the platform's answer: the radio is gone
    await sleep(50);
    device.write('press again'); // the firmware's retransmission: a service request once the cell is back
    await until(() => atDevice.length > 0);
    // coverage back at 300 ms, re-acquisition 100 ms, the device's wake-up 150 ms, half a round trip
    const after = atDevice[0]!.at - gapAt;
    expect(after).toBeGreaterThanOrEqual(300 + 100 + 150 + 20 - 5);
    expect(after).toBeLessThan(300 + 100 + 150 + 20 + 400); // paging (2 s) would put it past 2.5 s
  });

  it('pays one re-acquisition and one paging occasion for everything a gap holds back', async () => {
    const { link, broker, atDevice } = await rig(profile, seededRandom(3));
    const gapAt = performance.now();
    link.blackout(300);
    for (const text of ['a', 'b', 'c', 'd']) {
      broker.write(text);
      await sleep(20);
    }
    await until(() => atDevice.map((c) => c.text).join('') === 'abcd');
    // one radio: the chunks leave together once it is paged and set up, not each after a paging
    // occasion of its own (the last of four independent draws)
    expect(atDevice[atDevice.length - 1]!.at - atDevice[0]!.at).toBeLessThan(100);
    expect(atDevice[0]!.at - gapAt).toBeGreaterThanOrEqual(300 + 100 + 150 + 20 - 5);
  });

  it('holds what was still on the air when a gap began until the radio is back', async () => {
    const slow: NetworkProfile = { ...profile, uplinkBps: 100 }; // 5 bytes: 400 ms on the air
    const { link, device, atBroker } = await rig(slow, () => 0.5);
    const sentAt = performance.now();
    device.write('press');
    await sleep(100);
    link.blackout(300); // from 100 ms to 400 ms: the press is lost with the RRC connection
    await until(() => atBroker.length > 0);
    // coverage back at 400 ms, re-acquisition, the wake-up, then the press again (20 + 400 ms)
    expect(atBroker[0]!.at - sentAt).toBeGreaterThanOrEqual(400 + 100 + 150 + 420 - 5);
  });
});
