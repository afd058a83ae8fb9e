import { afterEach, describe, expect, it } from '@jest/globals';
import { createServer, type Server, type Socket } from 'node:net';
import { generate, parser as packetParser, type Packet } from 'mqtt-packet';
import { RefusedError } from './button.js';
import { connectPacket, IdlePool, nextMessageId, RawMqttClient, reply, subscribePacket } from './raw-mqtt.js';

/** A broker stand-in: answers CONNECT, SUBSCRIBE and PINGREQ, records every packet. */
function fakeBroker(options: { returnCode?: number; onSubscribe?: (socket: Socket, p: Packet) => void } = {}): Promise<{ server: Server; port: number; seen: Packet[] }> {
  const seen: Packet[] = [];
  const server = createServer((socket) => {
    sockets.push(socket);
    const parser = packetParser({ protocolVersion: 4 });
    parser.on('packet', (p: Packet) => {
      seen.push(p);
      if (p.cmd === 'connect') socket.write(generate({ cmd: 'connack', returnCode: options.returnCode ?? 0, sessionPresent: false }));
      if (p.cmd === 'subscribe') {
        socket.write(generate({ cmd: 'suback', messageId: p.messageId!, granted: p.subscriptions.map(() => 1) }));
        options.onSubscribe?.(socket, p);
      }
      if (p.cmd === 'pingreq') socket.write(generate({ cmd: 'pingresp' }));
    });
    socket.on('data', (b) => parser.parse(b));
    socket.on('error', () => undefined);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, port: (server.address() as { port: number }).port, seen })));
}

const servers: Server[] = [];
const sockets: Socket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

describe('raw MQTT packets', () => {
  it('answers a QoS 1 delivery with PUBACK of its packet id, and nothing else', () => {
    expect(reply({ cmd: 'publish', topic: 't', payload: Buffer.alloc(0), qos: 1, retain: false, dup: false, messageId: 42 })).toEqual({ cmd: 'puback', messageId: 42 });
    expect(reply({ cmd: 'publish', topic: 't', payload: Buffer.alloc(0), qos: 0, retain: false, dup: false })).toBeUndefined();
    expect(reply({ cmd: 'pingresp' })).toBeUndefined();
  });

  it('numbers packets 1 … 65535 and never 0 (MQTT 3.1.1 §2.3.1)', () => {
    expect(nextMessageId(0)).toBe(1);
    expect(nextMessageId(65534)).toBe(65535);
    expect(nextMessageId(65535)).toBe(1);
  });

  it('encodes CONNECT with the device\'s credentials and SUBSCRIBE QoS 1, byte for byte as MQTT 3.1.1', () => {
    const connect = generate(connectPacket({ clientId: 'btn-1', username: 'btn-1', password: 's3', clean: false, keepaliveS: 300 }));
    // fixed header 0x10, protocol name MQTT level 4, flags: username, password, no clean session; keepalive 300
    expect(connect.subarray(0, 1).toString('hex')).toBe('10');
    expect(connect.subarray(2, 12).toString('hex')).toBe('00044d51545404c0012c');
    expect(generate(subscribePacket(7, ['a/b'])).toString('hex')).toBe('820800070003612f6201'); // id 7, "a/b" QoS 1
  });
});

describe(RawMqttClient.name, () => {
  it('connects, subscribes, PUBACKs what the broker delivers, and disconnects', async () => {
    const broker = await fakeBroker({
      onSubscribe: (socket) => socket.write(generate({ cmd: 'publish', topic: 'amr/v1/dev/btn-1/ack', payload: Buffer.from('{}'), qos: 1, retain: false, dup: false, messageId: 9 })),
    });
    servers.push(broker.server);
    const client = new RawMqttClient(300);
    const packets: Packet[] = [];
    client.onPacket = (p) => packets.push(p);
    await expect(client.connect({ host: '127.0.0.1', port: broker.port, clientId: 'btn-1', username: 'btn-1', password: 'pw', clean: false, keepaliveS: 300 })).resolves.toEqual({ sessionPresent: false });
    expect(client.connected).toBe(true);
    await expect(client.subscribe(['amr/v1/dev/btn-1/ack', 'amr/v1/dev/btn-1/cmd'])).resolves.toEqual([1, 1]);
    // The broker's publish follows the SUBACK: wait for it (and for the client's PUBACK) rather than a fixed time.
    for (let waited = 0; !broker.seen.some((p) => p.cmd === 'puback') && waited < 5000; waited += 10) await new Promise((r) => setTimeout(r, 10));
    expect(packets.map((p) => p.cmd)).toEqual(['connack', 'suback', 'publish']);
    expect(broker.seen.find((p) => p.cmd === 'puback')).toMatchObject({ messageId: 9 });
    const connect = broker.seen[0] as Extract<Packet, { cmd: 'connect' }>;
    expect(connect).toMatchObject({ clientId: 'btn-1', username: 'btn-1', clean: false, keepalive: 300, protocolVersion: 4 });
    expect(String(connect.password)).toBe('pw');
    await client.end();
    expect(client.isClosed).toBe(true);
    await new Promise((r) => setTimeout(r, 20));
    expect(broker.seen[broker.seen.length - 1]!.cmd).toBe('disconnect');
  });

  it('rejects a refused CONNECT with the return code', async () => {
    const broker = await fakeBroker({ returnCode: 5 });
    servers.push(broker.server);
    const client = new RawMqttClient(300);
    const refused = client.connect({ host: '127.0.0.1', port: broker.port, clientId: 'x', clean: true, keepaliveS: 60 });
    await expect(refused).rejects.toBeInstanceOf(RefusedError);
    await expect(refused).rejects.toMatchObject({ returnCode: 5 });
  });

  it('gives up when no CONNACK comes in time', async () => {
    const silent = createServer((socket) => sockets.push(socket));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
    servers.push(silent);
    const client = new RawMqttClient(300);
    await expect(client.connect({ host: '127.0.0.1', port: (silent.address() as { port: number }).port, clientId: 'x', clean: true, keepaliveS: 60, timeoutMs: 100 })).rejects.toThrow(/no CONNACK/);
  });

  it('pings only when nothing was sent for the keepalive period; one pool timer serves every client', async () => {
    const broker = await fakeBroker();
    servers.push(broker.server);
    const pool = new IdlePool(20);
    const clients = [new RawMqttClient(0.05), new RawMqttClient(0.05)];
    for (const c of clients) {
      await c.connect({ host: '127.0.0.1', port: broker.port, clientId: `c${clients.indexOf(c)}`, clean: true, keepaliveS: 1 });
      pool.add(c);
    }
    clients[0]!.keepalive(clients[0]!.lastSentAt + 10); // too early: nothing
    expect(broker.seen.filter((p) => p.cmd === 'pingreq')).toHaveLength(0);
    await new Promise((r) => setTimeout(r, 150));
    expect(broker.seen.filter((p) => p.cmd === 'pingreq').length).toBeGreaterThanOrEqual(2);
    expect(pool.connected).toBe(2);
    await pool.close();
    expect(pool.clients).toHaveLength(0);
  });
});
