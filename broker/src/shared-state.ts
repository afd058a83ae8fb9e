/// <reference path="./redis-persistence.d.ts" />
import type { EventEmitter } from 'node:events';
import { Redis, type RedisOptions } from 'ioredis';
import mqemitterRedis from 'mqemitter-redis';
import redisPersistence from 'aedes-persistence-redis';
import { DOWN_CHANNELS, TOPIC_PREFIX, isDownChannel, parseDeviceTopic } from '@amr/protocol';
import { RedisOutage, reasonOf, type OutageLog } from './redis-outage.js';
import { OutageTolerantPersistence, type AedesPersistence } from './outage-tolerant-persistence.js';

/** Redis could not be reached at start-up: the one line an operator needs. */
export class RedisUnavailableError extends Error {}

const CONNECT_TIMEOUT_MS = 5000;
/** A command Redis has not answered by then counts as an outage (a network dropping packets). */
const COMMAND_TIMEOUT_MS = 2000;
const MAX_RECONNECT_DELAY_MS = 2000;
/** Devices remembered as having missed a message during one outage, at most. */
const MAX_MISSED = 100_000;

export interface SharedStateOptions {
  url: string;
  /** Namespace of the deployment: put in front of every key and every pub/sub channel. */
  prefix: string;
  /** The broker's concurrency (mqemitter `concurrency`): messages being delivered at once. */
  concurrency: number;
  log: OutageLog;
}

/** aedes' `mq` and `persistence` for brokers on several nodes, and their shutdown. */
export interface SharedState {
  readonly mq: unknown;
  readonly persistence: AedesPersistence;
  readonly outage: RedisOutage;
  /**
   * The devices this node published an ack or command to during an outage, delivered here only
   * (a device connected to another node missed it); emptied by the call.
   */
  takeMissed(): string[];
  /** After aedes.close() (which closes the emitter): closes the persistence and every connection. */
  close(): Promise<void>;
}

interface Message {
  topic: string;
  [key: string]: unknown;
}
type Listener = (message: Message, done: () => void) => void;
type Done = (err?: Error) => void;

/** mqemitter-redis as used here (its typings omit the prefixed variant and mqemitter's own methods). */
interface RedisEmitter {
  closed: boolean;
  closing?: boolean;
  /** Errors of its connections are re-emitted here: without a listener they would be thrown. */
  state: EventEmitter;
  emit(message: Message, done?: Done): void;
  on(topic: string, listener: Listener, done?: () => void): RedisEmitter;
  removeListener(topic: string, listener: Listener, done?: () => void): RedisEmitter;
  close(done: () => void): void;
  /** mqemitter's own emit: delivers to the listeners of this process only. */
  _emit(message: Message, done?: Done): void;
  /** mqemitter's own on and removeListener: listeners of this process only, no Redis subscription. */
  _on(topic: string, listener: Listener): unknown;
  _removeListener(topic: string, listener: Listener): unknown;
  /** mqemitter's own close, which touches no connection. */
  _close(done: () => void): void;
}

const { MQEmitterRedisPrefix } = mqemitterRedis as unknown as {
  MQEmitterRedisPrefix: new (prefix: string, options: object) => RedisEmitter;
};

/**
 * Connects the broker to Redis: mqemitter-redis carries every message between the nodes (a
 * device's ack reaches it on whichever node it is connected to; the kick control topic reaches
 * every node) and aedes-persistence-redis holds the sessions (subscriptions and queued QoS 1
 * messages of persistent sessions, so that a device gets them on whichever node it reconnects to).
 *
 * Both plug-ins support a namespace, so deployments may share one Redis: mqemitter-redis'
 * MQEmitterRedisPrefix puts `prefix` in front of every channel (pub/sub ignores the database
 * number of REDIS_URL, so this is what separates them), and ioredis' `keyPrefix`, which
 * aedes-persistence-redis' connection is given, in front of every key.
 *
 * Fails with RedisUnavailableError when Redis cannot be reached. Once running, a Redis outage
 * does not stop the node serving the devices connected to it (see withLocalFallback and
 * OutageTolerantPersistence); it is logged once when it starts and once when it ends.
 */
export async function connectSharedState(options: SharedStateOptions): Promise<SharedState> {
  const common: RedisOptions = {
    lazyConnect: true,
    connectTimeout: CONNECT_TIMEOUT_MS,
    retryStrategy: (attempt) => Math.min(attempt * 100, MAX_RECONNECT_DELAY_MS),
    // At shutdown, a connection that does not end by itself (Redis gone) is destroyed after this.
    disconnectTimeout: 500,
  };
  // Publishes and session writes fail at once while Redis is unreachable (no offline queue, no
  // retries), so that the node falls back at once instead of holding acks until Redis is back.
  const failFast: RedisOptions = { enableOfflineQueue: false, maxRetriesPerRequest: 0, commandTimeout: COMMAND_TIMEOUT_MS };
  const pub = new Redis(options.url, { ...common, ...failFast, enableAutoPipelining: true });
  // Subscribing waits for the connection instead: ioredis sends a SUBSCRIBE made during an outage
  // once Redis is back, and renews the earlier ones itself.
  const sub = new Redis(options.url, { ...common, maxRetriesPerRequest: null });
  const db = new Redis(options.url, { ...common, ...failFast, keyPrefix: options.prefix });
  const connections = [pub, sub, db];

  const silent = () => undefined;
  // connect() rejects with "Connection is closed."; the cause (ECONNREFUSED, WRONGPASS…) comes as an 'error'.
  let cause: unknown;
  const remember = (err: unknown) => (cause ??= err);
  for (const conn of connections) conn.on('error', remember);
  try {
    await Promise.all(connections.map((conn) => conn.connect()));
  } catch (err) {
    for (const conn of connections) conn.disconnect();
    throw new RedisUnavailableError(
      `Cannot reach Redis at ${describeRedisUrl(options.url)}: ${reasonOf(cause ?? err)} — start Redis (or fix REDIS_URL), or unset REDIS_URL to run a single node`,
    );
  }
  for (const conn of connections) conn.off('error', remember);
  const outage = new RedisOutage(connections, options.log);

  const mq = new MQEmitterRedisPrefix(options.prefix, {
    pubConn: pub,
    subConn: sub,
    // as aedes' own in-memory emitter is made (one queue must not hold every ack)
    concurrency: options.concurrency,
    matchEmptyLevels: true,
  });
  mq.state.on('error', silent); // RedisOutage reports them
  const missed = new Set<string>();
  withLocalFallback(mq, options.prefix, pub, sub, outage, (topic) => {
    const target = parseDeviceTopic(topic);
    if (target && isDownChannel(target.channel) && missed.size < MAX_MISSED) missed.add(target.deviceId);
  });
  await deviceTopicsByPattern(mq, options.prefix);

  ignoreUnawaitedFailures(db);
  const persistence = new OutageTolerantPersistence(redisPersistence({ conn: db }) as unknown as AedesPersistence, db, outage);
  let closed = false;
  return {
    mq,
    persistence,
    outage,
    takeMissed() {
      const devices = [...missed];
      missed.clear();
      return devices;
    },
    async close() {
      if (closed) return;
      closed = true;
      outage.close();
      await new Promise<void>((resolve) => mq.close(resolve)); // at once when aedes.close() already did
      // aedes does not close its persistence, and destroy(callback) never calls back.
      await persistence.destroy().catch(() => undefined);
      for (const conn of connections) if (conn.status !== 'end') conn.disconnect();
    },
  };
}

/**
 * mqemitter-redis delivers every message through Redis, even to a client of the same node: while
 * Redis is unreachable a publish would fail (or, with ioredis' offline queue, wait), and the ack
 * of a press would never reach the device that pressed. Instead, while the publishing connection
 * is not ready, or when a publish fails because Redis cannot be reached, the message is delivered
 * to this node's own subscribers: devices connected here get their acks and commands, and a kick
 * still cuts a connection held here. Devices on other nodes miss it (each node does the same for
 * its own). A publish that failed after reaching Redis may arrive twice; QoS 1 allows it.
 *
 * Subscribing answers at once during an outage too (aedes waits for it to SUBACK a device):
 * the local listener is in place at once, and ioredis sends the SUBSCRIBE when Redis is back.
 */
function withLocalFallback(mq: RedisEmitter, prefix: string, pub: Redis, sub: Redis, outage: RedisOutage, onLocalOnly: (topic: string) => void): void {
  const publish = mq.emit.bind(mq);
  const subscribe = mq.on.bind(mq);
  const unsubscribe = mq.removeListener.bind(mq);
  // MQEmitterRedisPrefix registers its listeners under the prefixed topic.
  const deliverHere = (message: Message, done: Done) => {
    onLocalOnly(message.topic);
    mq._emit({ ...message, topic: prefix + message.topic }, done);
  };

  mq.emit = (message, done = () => undefined) => {
    if (mq.closed || mq.closing) return publish(message, done);
    if (pub.status !== 'ready') {
      outage.down('not connected');
      return deliverHere(message, done);
    }
    publish(message, (err) => {
      if (!err) return done();
      if (!outage.isOutage(pub, err)) return done(err);
      outage.down(reasonOf(err));
      deliverHere(message, done);
    });
  };
  mq.on = (topic, listener, done) => {
    if (!done || sub.status === 'ready') return subscribe(topic, listener, done);
    subscribe(topic, listener);
    setImmediate(done);
    return mq;
  };
  mq.removeListener = (topic, listener, done) => {
    if (!done || sub.status === 'ready') return unsubscribe(topic, listener, done);
    unsubscribe(topic, listener);
    setImmediate(done);
    return mq;
  };
  // mqemitter-redis closes with QUIT and waits for both connections to end: with Redis unreachable
  // (or lost during the QUIT) that never happens. Nothing is left to send once aedes has closed
  // its clients, so the connections are simply closed.
  mq.close = (done) => {
    if (!mq.closed) {
      mq.closing = true;
      pub.disconnect();
      sub.disconnect();
    }
    mq._close(done);
  };
}

/**
 * mqemitter-redis subscribes to each topic on Redis when its first listener comes, and unsubscribes
 * when its last goes: two SUBSCRIBEs per device at every connection, two UNSUBSCRIBEs at every
 * disconnection, all on the node's one subscriber connection. In a reconnect storm they queue —
 * 5,000 devices dropped at once took 12 s to be connected again with Redis, 2.6 s without, and an
 * UNSUBSCRIBE took 320 ms on average. Instead, each node subscribes once to the patterns of every
 * device's down topics (`…/+/ack`, `…/+/cmd`), and a device's own subscriptions are listeners of
 * this process only. Every node then hears every device's acks and commands and delivers those of
 * the devices connected to it (each message once: mqemitter-redis drops a message id it has seen).
 */
async function deviceTopicsByPattern(mq: RedisEmitter, prefix: string): Promise<void> {
  const subscribe = mq.on.bind(mq);
  const unsubscribe = mq.removeListener.bind(mq);
  const isDeviceDownTopic = (topic: string) => {
    const target = parseDeviceTopic(topic);
    return target !== null && isDownChannel(target.channel);
  };
  // The listener as registered, under the prefixed topic (as MQEmitterRedisPrefix registers its own).
  const registered = new WeakMap<Listener, Listener>();
  mq.on = (topic, listener, done) => {
    if (!isDeviceDownTopic(topic)) return subscribe(topic, listener, done);
    const local: Listener = (message, cb) => listener.call(mq, { ...message, topic: message.topic.slice(prefix.length) }, cb);
    registered.set(listener, local);
    mq._on(prefix + topic, local);
    if (done) setImmediate(done);
    return mq;
  };
  mq.removeListener = (topic, listener, done) => {
    if (!isDeviceDownTopic(topic)) return unsubscribe(topic, listener, done);
    const local = registered.get(listener);
    if (local) mq._removeListener(prefix + topic, local);
    if (done) setImmediate(done);
    return mq;
  };
  // What brings them: one pattern per down channel, heard by a listener that only acknowledges.
  const heard: Listener = (_message, done) => done();
  await Promise.all(DOWN_CHANNELS.map((channel) => new Promise<void>((resolve) => subscribe(`${TOPIC_PREFIX}/+/${channel}`, heard, resolve))));
}

/** REDIS_URL without its credentials, for messages. */
export function describeRedisUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}${parsed.pathname === '/' ? '' : parsed.pathname}`;
  } catch {
    return 'REDIS_URL';
  }
}

/**
 * aedes-persistence-redis fires `LREM` and `RPUSH` on its will list without waiting for them (in
 * putWill and delWill, at every CONNECT and disconnect). When Redis is lost, their rejections have
 * no handler and Node ends the process on the first one: a node that should go on serving its own
 * devices died instead. Their promises get a handler here; whoever awaits them still sees the failure.
 */
function ignoreUnawaitedFailures(conn: Redis): void {
  const target = conn as unknown as Record<'lrem' | 'rpush', (...args: unknown[]) => Promise<unknown>>;
  for (const command of ['lrem', 'rpush'] as const) {
    const original = target[command].bind(conn);
    target[command] = (...args: unknown[]) => {
      const reply = original(...args);
      reply.catch(() => undefined);
      return reply;
    };
  }
}
