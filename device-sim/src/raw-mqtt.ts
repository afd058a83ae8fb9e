/**
 * A minimal MQTT 3.1.1 client over one TCP socket, for the bench's idle devices (tens of thousands
 * of connections in one process) and its flooding device (packets written as fast as the socket
 * takes them). It does what an idle button does and no more: CONNECT and wait for CONNACK,
 * SUBSCRIBE and wait for SUBACK, PUBACK every QoS 1 delivery, PINGREQ when nothing was sent for a
 * keepalive period (IdlePool, one timer for all). Packets are encoded and parsed by mqtt-packet,
 * the codec of mqtt.js and aedes. No store, no reconnection, no timers of its own once connected:
 * a few hundred bytes of state besides the socket.
 */
import { connect as netConnect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { generate, parser as packetParser, type IPublishPacket, type Packet, type Parser } from 'mqtt-packet';
import { ConnectError, RefusedError } from './button.js';

export interface RawConnectOptions {
  host: string;
  port: number;
  /** Source address of the socket (the bench spreads connections over several loopback addresses). */
  localAddress?: string;
  clientId: string;
  username?: string;
  password?: string;
  /** MQTT 3.1.1 clean session (§3.1.2.4); a button keeps its session (false). */
  clean: boolean;
  keepaliveS: number;
  /** CONNECT → CONNACK deadline, ms (default 30 s). */
  timeoutMs?: number;
}

/** What the client answers to a packet from the broker: PUBACK for a QoS 1 delivery [MQTT-4.3.2-2], PINGRESP needs nothing. */
export function reply(packet: Packet): Packet | undefined {
  if (packet.cmd === 'publish' && packet.qos === 1 && packet.messageId !== undefined) return { cmd: 'puback', messageId: packet.messageId };
  return undefined;
}

/** The next packet identifier after `id`: 1 … 65535, then 1 again (MQTT 3.1.1 §2.3.1: never 0). */
export function nextMessageId(id: number): number {
  return id >= 65535 ? 1 : id + 1;
}

/** CONNECT, MQTT 3.1.1, with a device's credentials (CONTRACT §1: clientId = username = device id). */
export function connectPacket(o: Pick<RawConnectOptions, 'clientId' | 'username' | 'password' | 'clean' | 'keepaliveS'>): Packet {
  return {
    cmd: 'connect',
    protocolId: 'MQTT',
    protocolVersion: 4,
    clientId: o.clientId,
    clean: o.clean,
    keepalive: o.keepaliveS,
    ...(o.username !== undefined ? { username: o.username } : {}),
    ...(o.password !== undefined ? { password: Buffer.from(o.password) } : {}),
  };
}

/** SUBSCRIBE QoS 1 to the topics. */
export function subscribePacket(messageId: number, topics: readonly string[]): Packet {
  return { cmd: 'subscribe', messageId, subscriptions: topics.map((topic) => ({ topic, qos: 1 as const })) };
}

interface Waiter {
  cmd: 'connack' | 'suback';
  messageId?: number;
  resolve: (packet: Packet) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

export class RawMqttClient {
  /** performance.now() of the last packet written (for the keepalive). */
  lastSentAt = 0;
  connected = false;
  /** Packet identifier of the last SUBSCRIBE or PUBLISH written. */
  messageId = 0;
  /** Every packet from the broker, after the client's own handling (flooding device: counts). */
  onPacket: ((packet: Packet) => void) | undefined;
  private socket: Socket | undefined;
  private parser: Parser | undefined;
  private waiter: Waiter | undefined;
  private closed = false;

  constructor(readonly keepaliveS: number) {}

  /** Opens the socket, sends CONNECT, resolves on CONNACK 0 (`sessionPresent`); RefusedError on a refusal. */
  connect(o: RawConnectOptions): Promise<{ sessionPresent: boolean }> {
    const socket = netConnect({ host: o.host, port: o.port, noDelay: true, ...(o.localAddress ? { localAddress: o.localAddress } : {}) });
    this.socket = socket;
    const parser = packetParser({ protocolVersion: 4 });
    this.parser = parser;
    parser.on('packet', (packet: Packet) => this.receive(packet));
    parser.on('error', () => this.destroy());
    socket.on('data', (chunk: Buffer) => parser.parse(chunk));
    socket.on('error', () => undefined); // 'close' follows and says it
    socket.on('close', () => this.ended());
    const answer = this.expect('connack', undefined, o.timeoutMs ?? 30_000, `no CONNACK from ${o.host}:${o.port}`);
    this.send(connectPacket(o));
    return answer.then((packet) => {
      if (packet.cmd !== 'connack') throw new ConnectError('unexpected answer to CONNECT');
      if (packet.returnCode) {
        this.destroy();
        throw new RefusedError(packet.returnCode);
      }
      this.connected = true;
      return { sessionPresent: packet.sessionPresent };
    });
  }

  /** SUBSCRIBE QoS 1; resolves with the granted QoS per topic (128: refused). */
  async subscribe(topics: readonly string[], timeoutMs = 30_000): Promise<number[]> {
    const answer = this.expect('suback', nextMessageId(this.messageId), timeoutMs, 'no SUBACK');
    this.sendSubscribe(topics);
    const packet = await answer;
    return packet.cmd === 'suback' ? packet.granted.map((g) => (typeof g === 'number' ? g : (g as { qos: number }).qos)) : [];
  }

  /**
   * Writes one packet; false when the socket's buffer is full (wait for `drained()` before the
   * next one to go at the socket's speed rather than the memory's).
   */
  send(packet: Packet): boolean {
    const socket = this.socket;
    // Nothing is written once the socket ended or was destroyed: such a write only queues an error.
    if (!socket || !this.writable) return false;
    this.lastSentAt = performance.now();
    return socket.write(generate(packet));
  }

  /** SUBSCRIBE QoS 1 with the next packet identifier, without waiting for the SUBACK; returns what send() returns. */
  sendSubscribe(topics: readonly string[]): boolean {
    this.messageId = nextMessageId(this.messageId);
    return this.send(subscribePacket(this.messageId, topics));
  }

  /** Publishes QoS 1 with the next packet identifier; returns what send() returns. */
  publish(topic: string, payload: Buffer): boolean {
    this.messageId = nextMessageId(this.messageId);
    const packet: IPublishPacket = { cmd: 'publish', topic, payload, qos: 1, retain: false, dup: false, messageId: this.messageId };
    return this.send(packet);
  }

  /**
   * Resolves when the socket can take more (at once if it can, or if it can take nothing any more:
   * check `writable`), or when it closed.
   */
  drained(): Promise<void> {
    const socket = this.socket;
    if (!socket || !this.writable || !socket.writableNeedDrain) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        socket.off('drain', done);
        socket.off('close', done);
        resolve();
      };
      socket.on('drain', done);
      socket.on('close', done);
    });
  }

  /** PINGREQ when nothing was sent for the keepalive period (MQTT 3.1.1 §3.1.2.10). */
  keepalive(now: number): void {
    if (this.connected && now - this.lastSentAt >= this.keepaliveS * 1000) this.send({ cmd: 'pingreq' });
  }

  /** DISCONNECT and close (the broker keeps a persistent session). */
  end(): Promise<void> {
    const socket = this.socket;
    if (!socket || this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      socket.once('close', () => resolve());
      if (this.connected) socket.end(generate({ cmd: 'disconnect' }));
      else socket.destroy();
    });
  }

  /** Closes the socket without DISCONNECT (as a lost coverage does). */
  destroy(): void {
    this.socket?.destroy();
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /**
   * The socket still takes packets: false as soon as it ended or was destroyed (by the broker's
   * FIN or RST, or destroy()), which is before its 'close' event and `isClosed`.
   */
  get writable(): boolean {
    return !this.closed && this.socket?.writable === true;
  }

  private receive(packet: Packet): void {
    const answer = reply(packet);
    if (answer) this.send(answer);
    const w = this.waiter;
    if (w && w.cmd === packet.cmd && (w.messageId === undefined || w.messageId === packet.messageId)) {
      this.waiter = undefined;
      clearTimeout(w.timer);
      w.resolve(packet);
    }
    this.onPacket?.(packet);
  }

  private expect(cmd: Waiter['cmd'], messageId: number | undefined, timeoutMs: number, message: string): Promise<Packet> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter = undefined;
        this.destroy();
        reject(new ConnectError(`${message} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiter = { cmd, ...(messageId !== undefined ? { messageId } : {}), resolve, reject, timer };
    });
  }

  private ended(): void {
    if (this.closed) return;
    this.closed = true;
    this.connected = false;
    this.parser?.removeAllListeners();
    this.parser = undefined;
    const w = this.waiter;
    if (w) {
      this.waiter = undefined;
      clearTimeout(w.timer);
      w.reject(new ConnectError('the broker closed the connection'));
    }
  }
}

/**
 * Idle devices: connected raw clients and one timer that sends each one's PINGREQ when its
 * keepalive period has passed without a packet.
 */
export class IdlePool {
  readonly clients: RawMqttClient[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly tickMs = 1000) {}

  add(client: RawMqttClient): void {
    this.clients.push(client);
    this.timer ??= setInterval(() => {
      const now = performance.now();
      for (const c of this.clients) c.keepalive(now);
    }, this.tickMs);
  }

  get connected(): number {
    let n = 0;
    for (const c of this.clients) if (c.connected) n++;
    return n;
  }

  /** DISCONNECT every client (bounded concurrency is not needed: closing is cheap). */
  async close(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await Promise.all(this.clients.map((c) => c.end()));
    this.clients.length = 0;
  }
}
