import { Readable } from 'node:stream';
import type { Redis } from 'ioredis';
import { reasonOf, type RedisOutage } from './redis-outage.js';

// aedes' persistence interface is untyped.
type Packet = any;
type Client = { id: string };
type Sub = { topic: string; qos: number; clientId?: string };

/** The promise-style persistence interface aedes 1.x calls. */
export interface AedesPersistence {
  setup(broker: unknown): Promise<void>;
  destroy(): Promise<void>;
  storeRetained(packet: Packet): Promise<void>;
  createRetainedStreamCombi(patterns: string[]): AsyncIterable<Packet>;
  addSubscriptions(client: Client, subs: Sub[]): Promise<unknown>;
  removeSubscriptions(client: Client, topics: string[]): Promise<unknown>;
  cleanSubscriptions(client: Client): Promise<unknown>;
  subscriptionsByClient(client: Client): Promise<Sub[]>;
  subscriptionsByTopic(topic: string): Promise<Sub[]>;
  countOffline(): Promise<{ subsCount: number; clientsCount: number }>;
  outgoingEnqueue(sub: Sub, packet: Packet): Promise<void>;
  outgoingEnqueueCombi(subs: Sub[], packet: Packet): Promise<void>;
  outgoingUpdate(client: Client, packet: Packet): Promise<void>;
  outgoingClearMessageId(client: Client, packet: Packet): Promise<Packet | undefined>;
  outgoingStream(client: Client): AsyncIterable<Packet>;
  incomingStorePacket(client: Client, packet: Packet): Promise<void>;
  incomingGetPacket(client: Client, packet: Packet): Promise<Packet>;
  incomingDelPacket(client: Client, packet: Packet): Promise<void>;
  cleanIncoming(client: Client): Promise<void>;
  putWill(client: Client, packet: Packet): Promise<unknown>;
  getWill(client: Client): Promise<Packet | null>;
  delWill(client: Client): Promise<Packet | null>;
  streamWill(brokers?: Record<string, number>): AsyncIterable<Packet>;
  getClientList(topic: string): unknown;
}

/**
 * aedes-persistence-redis, carrying on while Redis is unreachable as if each session had nothing
 * stored: a write is skipped, a read finds nothing. What the node does for the devices connected
 * to it does not wait on Redis — a press is still stored in the database, PUBACKed, and its ack
 * delivered to a device on this node — and nothing fails in aedes' hands (a failed update of a persistent session's message would make aedes close
 * that device's connection; a failed read would refuse a CONNECT or SUBSCRIBE).
 *
 * What is lost for the outage: messages queued in Redis for offline persistent sessions (they
 * are not written, or not read back), and subscriptions of persistent sessions made meanwhile
 * (not stored). The database stays the source of truth: a device subscribing again is reminded of
 * its open alarm's stage and its pending commands. Any other error (a real bug) is passed on.
 */
export class OutageTolerantPersistence implements AedesPersistence {
  /** addSubscriptions in flight, per client (see addSubscriptions). */
  private readonly adding = new Map<string, { readonly key: string; readonly done: Promise<unknown> }>();

  constructor(
    private readonly inner: AedesPersistence,
    private readonly conn: Redis,
    private readonly outage: RedisOutage,
  ) {}

  // aedes checks that setup is an async function (not merely one returning a promise).
  async setup(broker: unknown): Promise<void> {
    await this.inner.setup(broker);
  }

  destroy(): Promise<void> {
    return this.inner.destroy();
  }

  storeRetained(packet: Packet): Promise<void> {
    return this.tolerate(() => this.inner.storeRetained(packet), undefined);
  }

  createRetainedStreamCombi(patterns: string[]): AsyncIterable<Packet> {
    return this.tolerateStream(() => this.inner.createRetainedStreamCombi(patterns));
  }

  /**
   * aedes 1.2 calls this once per topic of a SUBSCRIBE, each time with all of its topics, at once.
   * The Redis plug-in then broadcasts the subscriptions and waits for its own broadcast to come
   * back, keyed by client and *first* topic: the second identical call replaces the first's
   * waiter, the first never completes, and the SUBACK never comes (a persistent-session device
   * subscribing to `ack` and `cmd` in one packet hung). So a call identical to one in flight
   * shares it, and a client's calls run one after the other.
   */
  addSubscriptions(client: Client, subs: Sub[]): Promise<unknown> {
    const key = subs.map((s) => `${s.topic}\u0000${s.qos}`).join('\u0000');
    const current = this.adding.get(client.id);
    if (current?.key === key) return current.done;
    const done = (current?.done ?? Promise.resolve())
      .catch(() => undefined)
      .then(() => this.tolerate(() => this.inner.addSubscriptions(client, subs), client));
    const entry = { key, done };
    this.adding.set(client.id, entry);
    const forget = () => {
      if (this.adding.get(client.id) === entry) this.adding.delete(client.id);
    };
    done.then(forget, forget);
    return done;
  }

  removeSubscriptions(client: Client, topics: string[]): Promise<unknown> {
    return this.tolerate(() => this.inner.removeSubscriptions(client, topics), client);
  }

  cleanSubscriptions(client: Client): Promise<unknown> {
    return this.tolerate(() => this.inner.cleanSubscriptions(client), client);
  }

  subscriptionsByClient(client: Client): Promise<Sub[]> {
    return this.tolerate(() => this.inner.subscriptionsByClient(client), []);
  }

  /** Answered from the node's own copy of the subscriptions: never waits on Redis. */
  subscriptionsByTopic(topic: string): Promise<Sub[]> {
    return this.inner.subscriptionsByTopic(topic);
  }

  countOffline(): Promise<{ subsCount: number; clientsCount: number }> {
    return this.tolerate(() => this.inner.countOffline(), { subsCount: 0, clientsCount: 0 });
  }

  outgoingEnqueue(sub: Sub, packet: Packet): Promise<void> {
    return this.tolerate(() => this.inner.outgoingEnqueue(sub, packet), undefined);
  }

  outgoingEnqueueCombi(subs: Sub[], packet: Packet): Promise<void> {
    return this.tolerate(() => this.inner.outgoingEnqueueCombi(subs, packet), undefined);
  }

  outgoingUpdate(client: Client, packet: Packet): Promise<void> {
    return this.tolerate(() => this.inner.outgoingUpdate(client, packet), undefined);
  }

  outgoingClearMessageId(client: Client, packet: Packet): Promise<Packet | undefined> {
    return this.tolerate(() => this.inner.outgoingClearMessageId(client, packet), undefined);
  }

  outgoingStream(client: Client): AsyncIterable<Packet> {
    return this.tolerateStream(() => this.inner.outgoingStream(client));
  }

  incomingStorePacket(client: Client, packet: Packet): Promise<void> {
    return this.tolerate(() => this.inner.incomingStorePacket(client, packet), undefined);
  }

  /** Not found is an error to aedes already (a QoS 2 release it does not know): passed on as is. */
  incomingGetPacket(client: Client, packet: Packet): Promise<Packet> {
    return this.inner.incomingGetPacket(client, packet);
  }

  incomingDelPacket(client: Client, packet: Packet): Promise<void> {
    return this.tolerate(() => this.inner.incomingDelPacket(client, packet), undefined);
  }

  cleanIncoming(client: Client): Promise<void> {
    return this.tolerate(() => this.inner.cleanIncoming(client), undefined);
  }

  putWill(client: Client, packet: Packet): Promise<unknown> {
    return this.tolerate(() => this.inner.putWill(client, packet), client);
  }

  getWill(client: Client): Promise<Packet | null> {
    return this.tolerate(() => this.inner.getWill(client), null);
  }

  delWill(client: Client): Promise<Packet | null> {
    return this.tolerate(() => this.inner.delWill(client), null);
  }

  streamWill(brokers?: Record<string, number>): AsyncIterable<Packet> {
    return this.tolerateStream(() => this.inner.streamWill(brokers));
  }

  getClientList(topic: string): unknown {
    return this.inner.getClientList(topic);
  }

  private async tolerate<T>(operation: () => Promise<T>, fallback: T): Promise<T> {
    try {
      return await operation();
    } catch (err) {
      if (!this.outage.isOutage(this.conn, err)) throw err;
      this.outage.down(reasonOf(err));
      return fallback;
    }
  }

  /** aedes pipes what it reads from a stream: a Readable, as the plug-in's own wrapper gives. */
  private tolerateStream<T>(open: () => AsyncIterable<T>): Readable {
    const outage = this.outage;
    const conn = this.conn;
    return Readable.from(
      (async function* () {
        try {
          yield* open();
        } catch (err) {
          if (!outage.isOutage(conn, err)) throw err;
          outage.down(reasonOf(err));
        }
      })(),
    );
  }
}
