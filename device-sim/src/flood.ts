/**
 * The flooding device of `bench --flood`: one device with valid credentials that publishes alarms
 * (a new seq each, QoS 1, without waiting for any ack) and SUBSCRIBEs to its own ack topic, in
 * turn, as fast as its socket takes them — what a broken firmware or a stolen identity can do.
 * It reconnects when the platform drops it (1 s, doubling up to 30 s while refused) and counts
 * what happened: how long until it was first disconnected, how many presses were acknowledged
 * (PUBACK, `received`), how many SUBSCRIBEs answered. It runs in a worker thread (flood-worker.ts)
 * so that its loop does not delay the measuring devices' timers and acks in the main thread.
 */
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import { deviceTopic, encodePayload, parseAck, type Encoding } from '@amr/protocol';
import type { Packet } from 'mqtt-packet';
import { RefusedError } from './button.js';
import { RawMqttClient } from './raw-mqtt.js';

export interface FloodOptions {
  host: string;
  port: number;
  localAddress?: string;
  deviceId: string;
  secret: string;
  encoding: Encoding;
  /** The first seq; every publish takes the next one. */
  seqBase: number;
  /** PUBLISH + SUBSCRIBE pairs written per turn of the event loop before yielding. */
  burst?: number;
}

export interface FloodStats {
  /** ms the flood ran (so far, while it runs: see Flooder.snapshot). */
  ms: number;
  connects: number;
  /** CONNECTs refused (CONNACK ≠ 0) or unanswered. */
  refusedConnects: number;
  /** Connections the platform ended while the device flooded. */
  disconnects: number;
  /** From the start of the flood to the first disconnection, ms (null: never). */
  firstDisconnectMs: number | null;
  publishes: number;
  pubacks: number;
  /** Distinct seqs of this flood acked `received`. */
  receivedSeqs: number;
  /** `received` acks, repeats included (replays of the alarm stage on SUBSCRIBE too). */
  receivedAcks: number;
  rejectedAcks: number;
  subscribes: number;
  subacks: number;
  /** The last seq used (the bench's seq counter moves past it). */
  lastSeq: number;
  error?: string;
}

/** A set of small non-negative integers, one bit each. */
export class BitSet {
  private bits = new Uint8Array(1024);
  size = 0;

  add(n: number): void {
    const byte = n >>> 3;
    if (byte >= this.bits.length) {
      const grown = new Uint8Array(Math.max(byte + 1, this.bits.length * 2));
      grown.set(this.bits);
      this.bits = grown;
    }
    const mask = 1 << (n & 7);
    if (!(this.bits[byte]! & mask)) {
      this.bits[byte]! |= mask;
      this.size += 1;
    }
  }
}

export class Flooder {
  readonly stats: FloodStats = {
    ms: 0, connects: 0, refusedConnects: 0, disconnects: 0, firstDisconnectMs: null, publishes: 0, pubacks: 0,
    receivedSeqs: 0, receivedAcks: 0, rejectedAcks: 0, subscribes: 0, subacks: 0, lastSeq: 0,
  };
  private readonly topics: { alarm: string; ack: string };
  private readonly acked = new BitSet();
  private stopped = false;
  private running = false;
  private startedAt = 0;
  private client: RawMqttClient | undefined;
  private seq: number;
  private wake: (() => void) | undefined;

  constructor(private readonly options: FloodOptions) {
    this.topics = { alarm: deviceTopic(options.deviceId, 'alarm'), ack: deviceTopic(options.deviceId, 'ack') };
    this.seq = options.seqBase - 1;
    this.stats.lastSeq = this.seq;
  }

  /** Floods until stop(); resolves then. */
  async run(): Promise<void> {
    this.startedAt = performance.now();
    this.running = true;
    let backoffMs = 1000;
    while (!this.stopped) {
      const client = new RawMqttClient(300);
      this.client = client;
      client.onPacket = (packet) => this.count(packet);
      try {
        await client.connect({
          host: this.options.host,
          port: this.options.port,
          ...(this.options.localAddress ? { localAddress: this.options.localAddress } : {}),
          clientId: this.options.deviceId,
          username: this.options.deviceId,
          password: this.options.secret,
          clean: false,
          keepaliveS: 300,
          timeoutMs: 10_000,
        });
        this.stats.connects += 1;
        backoffMs = 1000;
        await this.flood(client);
        if (!this.stopped) {
          this.stats.disconnects += 1;
          this.stats.firstDisconnectMs ??= performance.now() - this.startedAt;
        }
      } catch (error) {
        if (this.stopped) break;
        this.stats.refusedConnects += 1;
        if (!(error instanceof RefusedError)) this.stats.error = (error as Error).message;
        backoffMs = Math.min(backoffMs * 2, 30_000);
      }
      client.destroy();
      if (!this.stopped) await this.pause(backoffMs);
    }
    this.stats.ms = performance.now() - this.startedAt;
    this.running = false;
  }

  /**
   * The counts as of now, `ms` included: the worker reports this every 500 ms, so that a flood
   * that dies (a worker out of memory) still says how long it ran.
   */
  snapshot(): FloodStats {
    if (this.running) this.stats.ms = performance.now() - this.startedAt;
    return this.stats;
  }

  stop(): void {
    this.stopped = true;
    this.client?.destroy();
    this.wake?.();
  }

  /**
   * Writes PUBLISH + SUBSCRIBE pairs while the socket takes them, waiting for 'drain' when its
   * buffer is full. Ends as soon as the socket stops being writable (the platform's FIN or RST
   * ends or destroys it at once; its 'close' comes a turn of the event loop later): writing on
   * would only queue a write error per packet, and `drained()` would resolve at once, a loop of
   * promises that never lets the event loop turn, so neither 'close' nor a timer ever came.
   */
  private async flood(client: RawMqttClient): Promise<void> {
    const burst = this.options.burst ?? 64;
    while (!this.stopped && client.writable) {
      let room = true;
      for (let i = 0; i < burst && room && !this.stopped && client.writable; i++) {
        this.seq = this.seq >= 0xffffffff ? 0 : this.seq + 1;
        const payload = encodePayload({ seq: this.seq, ts: Math.floor(Date.now() / 1000), kind: 'panic' }, this.options.encoding);
        const published = client.publish(this.topics.alarm, payload);
        this.stats.publishes += 1;
        this.stats.lastSeq = this.seq;
        room = client.sendSubscribe([this.topics.ack]) && published;
        this.stats.subscribes += 1;
      }
      if (!room) await client.drained();
      else await new Promise((r) => setImmediate(r)); // let the socket's reads and the timers run
    }
  }

  private count(packet: Packet): void {
    if (packet.cmd === 'puback') this.stats.pubacks += 1;
    else if (packet.cmd === 'suback') this.stats.subacks += 1;
    else if (packet.cmd === 'publish' && packet.topic === this.topics.ack) {
      const parsed = parseAck(Buffer.from(packet.payload as Uint8Array));
      if (!parsed.ok) return;
      const { stage, seq } = parsed.message;
      if (stage === 'rejected') this.stats.rejectedAcks += 1;
      if (stage !== 'received') return;
      this.stats.receivedAcks += 1;
      if (seq !== undefined && seq >= this.options.seqBase && seq <= this.stats.lastSeq) {
        this.acked.add(seq - this.options.seqBase);
        this.stats.receivedSeqs = this.acked.size;
      }
    }
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wake = done;
    });
  }
}

/** A running flood in its worker thread. */
export interface FloodHandle {
  /** The latest counts (the worker reports every 500 ms). */
  readonly stats: FloodStats | undefined;
  stop(): Promise<FloodStats>;
}

/** Starts the flooding device in a worker thread. */
export function startFlood(options: FloodOptions): FloodHandle {
  const worker = new Worker(fileURLToPath(new URL('./flood-worker.js', import.meta.url)), { workerData: options });
  let latest: FloodStats | undefined;
  let final: ((stats: FloodStats) => void) | undefined;
  const finished = new Promise<FloodStats>((resolve) => (final = resolve));
  worker.on('message', (message: { stats: FloodStats; final?: boolean }) => {
    latest = message.stats;
    if (message.final) final?.(message.stats);
  });
  worker.on('error', (error) => final?.({ ...(latest ?? emptyStats()), error: error.message }));
  worker.on('exit', () => final?.(latest ?? emptyStats()));
  return {
    get stats() {
      return latest;
    },
    async stop() {
      worker.postMessage('stop');
      const stats = await finished;
      await worker.terminate();
      return stats;
    },
  };
}

function emptyStats(): FloodStats {
  return new Flooder({ host: '', port: 0, deviceId: 'none', secret: '', encoding: 'cbor', seqBase: 1 }).stats;
}
