import { createServer, connect, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from '@jest/globals';
import { MAX_PACKET_BYTES, PacketFraming, guardSocket, type FramingViolation } from './packet-guard.js';

/** An MQTT packet of `size` bytes in all (fixed header included): type byte, Remaining Length, body. */
function packet(size: number, type = 0x30): Buffer {
  for (let lengthBytes = 1; lengthBytes <= 4; lengthBytes++) {
    const remaining = size - 1 - lengthBytes;
    if (remaining < 128 ** lengthBytes) return Buffer.concat([Buffer.from([type]), remainingLength(remaining), Buffer.alloc(remaining, 0x61)]);
  }
  throw new Error(`no packet of ${size} bytes`);
}

/** MQTT 3.1.1 §2.2.3 */
function remainingLength(value: number): Buffer {
  const bytes: number[] = [];
  do {
    let byte = value % 128;
    value = Math.floor(value / 128);
    if (value > 0) byte |= 0x80;
    bytes.push(byte);
  } while (value > 0);
  return Buffer.from(bytes);
}

function feedAll(framing: PacketFraming, chunks: Buffer[]): FramingViolation | undefined {
  for (const chunk of chunks) {
    const violation = framing.feed(chunk);
    if (violation) return violation;
  }
  return undefined;
}

function bytewise(buffer: Buffer): Buffer[] {
  return [...buffer].map((b) => Buffer.from([b]));
}

describe(PacketFraming.name, () => {
  it.each([
    ['a PINGREQ (no body)', [Buffer.from([0xc0, 0x00])]],
    ['a packet of exactly 4 KiB', [packet(MAX_PACKET_BYTES)]],
    ['many small packets in one chunk', [Buffer.concat([packet(2), packet(100), packet(300), packet(4000)])]],
    ['a packet split byte by byte', bytewise(packet(200))],
    ['a 4 KiB packet after a small one, split across chunks', [Buffer.concat([packet(50), packet(4096)]).subarray(0, 60), Buffer.concat([packet(50), packet(4096)]).subarray(60)]],
  ])('lets through %s', (_name, chunks) => {
    expect(feedAll(new PacketFraming(), chunks)).toBeUndefined();
  });

  it('refuses a packet one byte over 4 KiB from its header alone', () => {
    const framing = new PacketFraming();
    const header = packet(MAX_PACKET_BYTES + 1).subarray(0, 3);
    expect(framing.feed(header)).toBe('packet-too-large');
  });

  it('refuses a CONNECT announcing 256 MiB (the largest Remaining Length) from its first five bytes, even when they come one at a time', () => {
    const header = Buffer.concat([Buffer.from([0x10]), remainingLength(256 * 2 ** 20 - 1)]);
    expect(header).toHaveLength(5);
    const framing = new PacketFraming();
    const verdicts = bytewise(header).map((b) => framing.feed(b));
    expect(verdicts).toEqual([undefined, undefined, undefined, undefined, 'packet-too-large']);
  });

  it('finds a large packet behind small ones in the same chunk', () => {
    const chunk = Buffer.concat([packet(10), packet(20), packet(5000).subarray(0, 10)]);
    expect(new PacketFraming().feed(chunk)).toBe('packet-too-large');
  });

  it('refuses a Remaining Length of more than four bytes', () => {
    expect(new PacketFraming().feed(Buffer.from([0x30, 0x80, 0x80, 0x80, 0x80, 0x01]))).toBe('malformed-length');
  });

  it('follows a raised limit', () => {
    const framing = new PacketFraming(64 * 1024);
    expect(framing.feed(packet(60_000))).toBeUndefined();
    framing.limit = Infinity;
    expect(framing.feed(packet(1_000_000))).toBeUndefined();
  });
});

describe(guardSocket.name, () => {
  let server: Server | undefined;
  afterEach(() => {
    server?.close();
  });

  /** A loopback connection: the server's end guarded, what it reads collected. */
  async function guarded(): Promise<{ client: Socket; received: Buffer[]; violations: FramingViolation[]; closed: Promise<void>; unguard: () => void }> {
    const received: Buffer[] = [];
    const violations: FramingViolation[] = [];
    let unguard = (): void => undefined;
    let closed!: Promise<void>;
    const accepted = new Promise<void>((resolve) => {
      server = createServer({ noDelay: true }, (socket) => {
        unguard = guardSocket(socket, new PacketFraming(), (why) => {
          violations.push(why);
          socket.destroy();
        });
        closed = new Promise((done) => socket.once('close', () => done()));
        socket.on('data', (chunk: Buffer) => received.push(chunk));
        resolve();
      });
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const port = (server!.address() as { port: number }).port;
    const client = connect({ port, host: '127.0.0.1', noDelay: true });
    client.on('error', () => undefined);
    await accepted;
    return { client, received, violations, closed, unguard: () => unguard() };
  }

  it('passes packets under the limit through unchanged', async () => {
    const { client, received, violations } = await guarded();
    const sent = Buffer.concat([packet(2), packet(4096), packet(10)]);
    client.end(sent);
    await new Promise((resolve) => client.once('close', resolve));
    expect(Buffer.concat(received)).toEqual(sent);
    expect(violations).toEqual([]);
  });

  it('closes the connection at the header of a packet over the limit, before its body is read', async () => {
    const { client, received, violations, closed } = await guarded();
    client.write(Buffer.concat([packet(20), Buffer.from([0x10]), remainingLength(256 * 2 ** 20 - 1)]));
    client.write(Buffer.alloc(64 * 1024));
    await closed;
    expect(violations).toEqual(['packet-too-large']);
    expect(Buffer.concat(received).length).toBeLessThanOrEqual(20);
    client.destroy();
  });

  it('once taken off, lets any size through', async () => {
    const { client, received, violations, unguard } = await guarded();
    unguard();
    const sent = packet(100_000);
    client.end(sent);
    await new Promise((resolve) => client.once('close', resolve));
    expect(Buffer.concat(received)).toEqual(sent);
    expect(violations).toEqual([]);
  });
});
