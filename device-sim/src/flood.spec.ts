import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { createServer, Socket, type Server } from 'node:net';
import { performance } from 'node:perf_hooks';
import { generate, parser as packetParser, type Packet } from 'mqtt-packet';
import { Flooder } from './flood.js';
import { RawMqttClient } from './raw-mqtt.js';

/** A platform stand-in: CONNACKs every CONNECT, then hands the connection to the test. */
interface FakePlatform {
  port: number;
  connections: Socket[];
  /** Bytes read per connection. */
  received: number[];
}

const servers: Server[] = [];
const serverSockets = new Set<Socket>();
const flooders: Flooder[] = [];

function fakePlatform(connected: (socket: Socket, index: number) => void): Promise<FakePlatform> {
  const platform: FakePlatform = { port: 0, connections: [], received: [] };
  const server = createServer((socket) => {
    serverSockets.add(socket);
    const index = platform.connections.push(socket) - 1;
    platform.received[index] = 0;
    socket.on('error', () => undefined);
    const parser = packetParser({ protocolVersion: 4 });
    parser.once('packet', (p: Packet) => {
      if (p.cmd !== 'connect') return;
      socket.write(generate({ cmd: 'connack', returnCode: 0, sessionPresent: false }));
      connected(socket, index);
    });
    socket.on('data', (chunk: Buffer) => {
      platform.received[index]! += chunk.length;
      if (platform.received[index] === chunk.length) parser.parse(chunk); // the CONNECT; the flood itself is only counted
    });
  });
  servers.push(server);
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      platform.port = (server.address() as { port: number }).port;
      resolve(platform);
    }),
  );
}

function flooder(port: number): Flooder {
  const f = new Flooder({ host: '127.0.0.1', port, deviceId: 'btn-flood', secret: 's3', encoding: 'cbor', seqBase: 1000 });
  flooders.push(f);
  return f;
}

/** Waits for a condition, checking every few ms (it holds once the event loop has turned). */
async function until(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/**
 * The flooder's publishes per turn of the event loop (a chain of setImmediate marks the turns),
 * and those it made on a connection that could no longer take them. It must yield after every
 * burst: its thread has the worker's reports and the `stop` message to handle. A flooder that
 * loops on promises alone never lets a turn end, so nothing would end the test but the heap: past
 * 10,000 publishes in one turn the observer stops it, and the test fails.
 */
const turns = { publishes: 0, max: 0, dead: 0 };
let turning: NodeJS.Immediate | undefined;
beforeEach(() => {
  Object.assign(turns, { publishes: 0, max: 0, dead: 0 });
  const turn = (): void => {
    turns.publishes = 0;
    turning = setImmediate(turn);
  };
  turn();
  const publish = RawMqttClient.prototype.publish;
  jest.spyOn(RawMqttClient.prototype, 'publish').mockImplementation(function (this: RawMqttClient, topic: string, payload: Buffer) {
    turns.publishes += 1;
    turns.max = Math.max(turns.max, turns.publishes);
    if (!this.writable) turns.dead += 1;
    if (turns.publishes > 10_000) for (const f of flooders) f.stop();
    return publish.call(this, topic, payload);
  });
});

afterEach(async () => {
  clearImmediate(turning);
  for (const f of flooders.splice(0)) f.stop();
  jest.restoreAllMocks();
  for (const s of serverSockets) s.destroy();
  serverSockets.clear();
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

/** The most bytes the device's sockets ever held in their write buffers, and whether a write found one full. */
function watchWrites(): { maxBuffered: number; full: boolean; highWaterMark: number } {
  const seen = { maxBuffered: 0, full: false, highWaterMark: 0 };
  const write = Socket.prototype.write as (this: Socket, ...args: unknown[]) => boolean;
  jest.spyOn(Socket.prototype, 'write').mockImplementation(function (this: Socket, ...args: unknown[]) {
    const room = write.apply(this, args);
    if (!serverSockets.has(this)) {
      seen.maxBuffered = Math.max(seen.maxBuffered, this.writableLength);
      seen.highWaterMark = this.writableHighWaterMark;
      if (!room) seen.full = true;
    }
    return room;
  });
  return seen;
}

/** Bursts are of 64 pairs: a turn sees one after setImmediate and one per 'drain'; none of them runs on without end. */
const PUBLISHES_PER_TURN = 1000;

describe(Flooder.name, () => {
  it.each([
    ['resets the connection (RST)', (socket: Socket) => socket.resetAndDestroy()],
    ['closes the connection (FIN)', (socket: Socket) => socket.end()],
  ])('stops writing the moment the platform %s, and floods again once reconnected', async (_, drop) => {
    const platform = await fakePlatform((socket, index) => {
      if (index === 0) setTimeout(() => drop(socket), 100); // a tenth of a second of flood, then dropped
    });
    const f = flooder(platform.port);
    const running = f.run();
    await until(() => (platform.received[1] ?? 0) > 100_000 || turns.max > 10_000, 'the flood over the second connection');
    expect(turns.max).toBeLessThanOrEqual(PUBLISHES_PER_TURN);
    expect(turns.dead).toBe(0);
    expect(f.stats).toMatchObject({ connects: 2, disconnects: 1, refusedConnects: 0 });
    expect(f.stats.firstDisconnectMs).not.toBeNull();
    f.stop();
    await running;
    expect(f.stats.error).toBeUndefined();
  });

  it('floods as fast as the socket takes it and no faster: a platform that stops reading holds at most one buffer of packets', async () => {
    const platform = await fakePlatform((socket) => socket.pause());
    const writes = watchWrites();
    const f = flooder(platform.port);
    const running = f.run();
    await until(() => writes.full, 'a full socket buffer');
    const published = f.stats.publishes;
    platform.connections[0]!.resume();
    await until(() => f.stats.publishes > published + 20_000, 'the flood going on once the platform reads again');
    // The high-water mark, plus the PUBLISH and SUBSCRIBE of the pair that filled it.
    expect(writes.maxBuffered).toBeLessThanOrEqual(writes.highWaterMark + 256);
    expect(f.stats.disconnects).toBe(0);
    expect(turns.max).toBeLessThanOrEqual(PUBLISHES_PER_TURN);
    f.stop();
    await running;
  });

  it('says how long it has flooded while it floods, not only once it stopped', async () => {
    const platform = await fakePlatform(() => undefined);
    const f = flooder(platform.port);
    const started = performance.now();
    const running = f.run();
    await until(() => (platform.received[0] ?? 0) > 100_000, 'the flood');
    const first = f.snapshot().ms;
    expect(first).toBeGreaterThan(0);
    expect(first).toBeLessThanOrEqual(performance.now() - started);
    await until(() => f.snapshot().ms > first, 'more flooding time');
    f.stop();
    await running;
    expect(f.stats.ms).toBeGreaterThan(first);
  });
});
