import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { describe, expect, it } from '@jest/globals';
import type { AmrConfig } from '@amr/config';
import { Metrics } from '@amr/runtime';
import { ConnectionGate } from './connection-gate.js';

let nextPort = 40_000;

/** Just enough of a socket: its addresses, a readable side fed through `push`, destroy → close. */
class FakeSocket extends EventEmitter {
  readonly localAddress = '127.0.0.1';
  readonly localPort = 1883;
  readonly remotePort = nextPort++;
  readonly received: Buffer[] = [];
  destroyed = false;

  constructor(readonly remoteAddress: string) {
    super();
  }

  push(chunk: Buffer | null): boolean {
    if (chunk) this.received.push(chunk);
    return true;
  }

  destroy(): this {
    if (!this.destroyed) {
      this.destroyed = true;
      this.emit('close');
    }
    return this;
  }

  /** The same TCP connection as seen through a TLS socket. */
  tls(): FakeSocket {
    return Object.assign(new FakeSocket(this.remoteAddress), { remotePort: this.remotePort });
  }

  get socket(): Socket {
    return this as unknown as Socket;
  }
}

function gate(mqtt: { connectTimeoutMs?: number; maxPendingPerAddress?: number } = {}) {
  const metrics = new Metrics({ processMetrics: false });
  const config = { mqtt: { connectTimeoutMs: 60_000, maxPendingPerAddress: 2, ...mqtt } } as AmrConfig;
  const closed = (reason: string) => metrics.total('amr_mqtt_connections_closed_total', { reason });
  /** Observations of amr_mqtt_connect_step_seconds for `step`: how many, and their sum in seconds. */
  const timed = async (step: string) => {
    const values = (await metrics.connectStep.get()).values.filter((v) => v.labels.step === step);
    const of = (name: string) => values.find((v) => v.metricName === name)?.value ?? 0;
    return { count: of('amr_mqtt_connect_step_seconds_count'), sumS: of('amr_mqtt_connect_step_seconds_sum') };
  };
  return { gate: new ConnectionGate(config, metrics), closed, timed };
}

/** Fixed headers (MQTT 3.1.1 §2.2): type byte, then the Remaining Length, 7 bits a byte. */
const CONNECT_256_MIB = Buffer.from([0x10, 0xff, 0xff, 0xff, 0x7f]); // 268,435,455 bytes
const CONNECT_5000 = Buffer.from([0x10, 0x88, 0x27]);
const PUBLISH_10000 = Buffer.from([0x30, 0x90, 0x4e]);

describe(ConnectionGate.name, () => {
  it('bounds the connections of one address that wait for their CONNACK, and closes one more at once', async () => {
    const { gate: g, closed } = gate();
    const first = new FakeSocket('192.0.2.7');
    const second = new FakeSocket('::ffff:192.0.2.7'); // the same address, IPv4-mapped
    const third = new FakeSocket('192.0.2.7');
    expect(g.admit(first.socket)).toBe(true);
    expect(g.admit(second.socket)).toBe(true);
    expect(g.admit(third.socket)).toBe(false);
    expect(third.destroyed).toBe(true);
    expect(await closed('pending-per-address')).toBe(1);
    expect(g.admit(new FakeSocket('192.0.2.8').socket)).toBe(true); // another address is not affected
    expect(g.pendingFrom('192.0.2.7')).toBe(2);
  });

  it('counts only connections still pending: a CONNACK or a close frees the place, and nothing is kept at 0', () => {
    const { gate: g } = gate();
    const a = new FakeSocket('198.51.100.1');
    const b = new FakeSocket('198.51.100.1');
    g.admit(a.socket);
    g.admit(b.socket);
    g.ready(a, false);
    b.destroy();
    expect(g.pendingFrom('198.51.100.1')).toBe(0);
    expect(g.pendingAddresses).toBe(0);
    a.destroy(); // after its CONNACK: not counted twice
    expect(g.pendingAddresses).toBe(0);
    for (let i = 0; i < 2; i++) expect(g.admit(new FakeSocket('198.51.100.1').socket)).toBe(true);
  });

  it('closes a connection that has not completed CONNECT by the deadline, and only that one', async () => {
    const { gate: g, closed } = gate({ connectTimeoutMs: 30 });
    const silent = new FakeSocket('203.0.113.5');
    const prompt = new FakeSocket('203.0.113.6');
    g.admit(silent.socket);
    g.admit(prompt.socket);
    g.ready(prompt, false);
    await new Promise((resolve) => silent.once('close', resolve));
    expect(prompt.destroyed).toBe(false);
    expect(await closed('connect-timeout')).toBe(1);
    expect(g.pendingAddresses).toBe(0);
  });

  it('lets a connection whose CONNECT was read wait for the broker past the client deadline (a storm\'s authentication queue)', async () => {
    const { gate: g, closed } = gate({ connectTimeoutMs: 30 });
    const waiting = new FakeSocket('203.0.113.7');
    const silent = new FakeSocket('203.0.113.8');
    g.admit(waiting.socket);
    g.admit(silent.socket);
    g.connectReceived(waiting);
    await new Promise((resolve) => silent.once('close', resolve));
    await new Promise((resolve) => setTimeout(resolve, 60)); // twice the client deadline
    expect(waiting.destroyed).toBe(false);
    expect(await closed('connect-timeout')).toBe(1);
    expect(g.pendingFrom('203.0.113.7')).toBe(1); // still waiting for its CONNACK
    g.ready(waiting, false);
    expect(g.pendingAddresses).toBe(0);
  });

  it('times a connection\'s wait for its CONNECT and the broker\'s wait for its CONNACK, apart', async () => {
    const { gate: g, timed } = gate();
    const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
    const device = new FakeSocket('203.0.113.9');
    const gone = new FakeSocket('203.0.113.10');
    g.admit(device.socket);
    g.admit(gone.socket);
    await sleep(30);
    g.connectReceived(device);
    gone.destroy(); // closed before its CONNECT: never timed
    await sleep(50);
    g.connackSent(device);
    g.ready(device, false);
    g.connackSent(device); // after its CONNACK it is no longer pending: not timed twice
    const read = await timed('read');
    const connack = await timed('connack');
    expect(read.count).toBe(1);
    expect(read.sumS).toBeGreaterThanOrEqual(0.025);
    expect(connack.count).toBe(1);
    expect(connack.sumS).toBeGreaterThanOrEqual(0.045);
  });

  it('closes a connection at the header of a packet over 4 KiB, before the body is taken in', async () => {
    const { gate: g, closed } = gate();
    const socket = new FakeSocket('203.0.113.9');
    g.admit(socket.socket);
    socket.push(CONNECT_256_MIB);
    expect(socket.destroyed).toBe(true);
    expect(socket.received).toEqual([]);
    expect(await closed('packet-too-large')).toBe(1);
  });

  it('keeps the limit for a device after its CONNACK, and lifts it for a trusted platform client', () => {
    const { gate: g } = gate();
    const device = new FakeSocket('127.0.0.1');
    const platform = new FakeSocket('127.0.0.1');
    g.admit(device.socket);
    g.admit(platform.socket);
    g.ready(device, false, 'btn-device');
    g.ready(platform, true);
    const large = Buffer.concat([PUBLISH_10000, Buffer.alloc(10_000)]);
    platform.push(large);
    expect(platform.destroyed).toBe(false);
    expect(platform.received).toEqual([large]);
    device.push(large);
    expect(device.destroyed).toBe(true);
  });

  it('counts a TLS connection from its TCP accept and guards the bytes of its TLS socket', async () => {
    const { gate: g, closed } = gate({ maxPendingPerAddress: 1 });
    const raw = new FakeSocket('192.0.2.44');
    g.admitTls(raw.socket);
    const another = new FakeSocket('192.0.2.44');
    g.admitTls(another.socket); // still in its handshake, the first one counts
    expect(another.destroyed).toBe(true);
    const secure = raw.tls();
    expect(g.secured(secure as unknown as TLSSocket)).toBe(true);
    secure.push(CONNECT_5000);
    expect(secure.destroyed).toBe(true);
    expect(await closed('packet-too-large')).toBe(1);
    raw.destroy();
    expect(g.pendingAddresses).toBe(0);
  });

  it('refuses a TLS socket whose TCP connection it never admitted', () => {
    const { gate: g } = gate();
    const stray = new FakeSocket('192.0.2.50');
    expect(g.secured(stray as unknown as TLSSocket)).toBe(false);
    expect(stray.destroyed).toBe(true);
  });
});
