import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { TLSSocket } from 'node:tls';
import { Inject, Injectable, Logger } from '@nestjs/common';
import type { AmrConfig } from '@amr/config';
import { AMR_CONFIG, Metrics, logSafe } from '@amr/runtime';
import { addressKey } from '@amr/security';
import { PacketFraming, guardSocket, type FramingViolation, type OversizePublish } from './packet-guard.js';

/** Why the gate closed a connection (the `reason` of amr_mqtt_connections_closed_total). */
export type GateCloseReason = FramingViolation | 'connect-timeout' | 'pending-per-address';

/** A connection between TCP accept and its CONNACK. */
interface Pending {
  /** The stream that carries its MQTT bytes: the TCP socket, or its TLS socket once the handshake is done. */
  stream: Socket;
  /** Ends the pending state (CONNACK sent, or the connection closed); only the first call counts. */
  settle(): void;
  /** Takes the packet guard off again. */
  unguard(): void;
  /** Its CONNECT is read: the client's part is done, the time from here on is the broker's. */
  received(): void;
  /** When its CONNECT was read (performance.now()), once it is. */
  readAt?: number;
  /** The client's id, once it has its CONNACK. */
  client?: string;
  /** The packet framing of its stream. */
  framing?: PacketFraming;
  /** Whether the client has a persistent session (clean session false). */
  persistent?: boolean;
}

/** What the broker's policy says about a device's PUBLISH over 4 KiB (TopicPolicy). */
export interface OversizeHandler {
  /** Whether it is to one of the device's own up topics: then it is acknowledged and answered. */
  accepts(clientId: string, topic: string): boolean;
  /** Counts it and answers the device (a `rejected` ack for a press). */
  answer(clientId: string, publish: OversizePublish): Promise<void>;
}

/** A CONNECT read but not yet answered (authentication queued in a storm) is closed after this at the latest. */
const BROKER_CONNECT_BOUND_MS = 60_000;

/** How long the answer to an oversize PUBLISH may take before the connection is closed anyway. */
const OVERSIZE_ANSWER_MS = 1000;

/**
 * The broker's connection-level limits, applied between the socket and aedes, before anything is
 * buffered (CONTRACT §2):
 * - every packet over 4 KiB (fixed header included) closes the connection as soon as its fixed
 *   header is read: until CONNACK for everyone, afterwards for every client but the platform's own
 *   (which publish commands and acks, and are trusted once authenticated);
 * - a connection whose CONNECT has not arrived within `mqtt.connectTimeoutMs` of its TCP accept
 *   is closed, a TLS handshake included; once its CONNECT is read, the wait is the broker's
 *   (authentication queued in a reconnect storm) and is bounded by BROKER_CONNECT_BOUND_MS;
 * - at most `mqtt.maxPendingPerAddress` connections per source address wait for their CONNACK at
 *   a time (an IPv4-mapped address counts as its IPv4 address, IPv6 by its /64); one more is
 *   closed at once.
 * Each closure is counted in amr_mqtt_connections_closed_total{reason}.
 */
@Injectable()
export class ConnectionGate {
  private readonly logger = new Logger('MqttGate');
  /** Connections waiting for their CONNACK, per address key; an entry is removed at 0. */
  private readonly pendingByAddress = new Map<string, number>();
  /** By the stream aedes reads (a client's `conn`), until its CONNACK. */
  private readonly pending = new WeakMap<object, Pending>();
  /** TLS connections in their handshake, by TCP connection (the TLS socket is not known yet). */
  private readonly handshakes = new Map<string, Pending>();

  /** Set by the broker: answers a device's oversize PUBLISH (a `rejected` for a press). */
  oversize: OversizeHandler | undefined;

  constructor(
    @Inject(AMR_CONFIG) private readonly config: AmrConfig,
    private readonly metrics: Metrics,
  ) {}

  /** A plain TCP connection, just accepted. False: it was closed, do not hand it to aedes. */
  admit(socket: Socket): boolean {
    const pending = this.open(socket);
    if (!pending) return false;
    this.guard(pending, socket);
    return true;
  }

  /** A TCP connection to the TLS listener, just accepted (the server's `connection` event). */
  admitTls(socket: Socket): void {
    const pending = this.open(socket);
    if (!pending) return;
    const key = connectionKey(socket);
    this.handshakes.set(key, pending);
    socket.once('close', () => {
      if (this.handshakes.get(key) === pending) this.handshakes.delete(key);
    });
  }

  /** Its TLS handshake is done (the server's `secureConnection`). False: closed, do not hand it to aedes. */
  secured(socket: TLSSocket): boolean {
    const key = connectionKey(socket);
    const pending = this.handshakes.get(key);
    this.handshakes.delete(key);
    if (!pending || socket.destroyed) {
      socket.destroy();
      return false;
    }
    socket.once('close', pending.settle);
    this.guard(pending, socket);
    return true;
  }

  /**
   * CONNACK sent to client `clientId` reading `conn`: no longer pending; `trusted` lifts the packet
   * limit; `persistent`: it has a persistent session.
   */
  ready(conn: object, trusted: boolean, clientId?: string, persistent = false): void {
    const pending = this.pending.get(conn);
    if (!pending) return;
    this.pending.delete(conn);
    pending.client = clientId;
    pending.persistent = persistent;
    pending.settle();
    if (trusted) pending.unguard();
    // A device's oversize PUBLISH is answered before the connection closes (closeOversize).
    else if (pending.framing) pending.framing.readOversizePublish = true;
  }

  /** The CONNECT of the client reading `conn` is read (aedes' preConnect): its own deadline is met. */
  connectReceived(conn: object): void {
    this.pending.get(conn)?.received();
  }

  /** Its CONNACK is written (before `ready`, which waits for the session's queued messages): timed. */
  connackSent(conn: object): void {
    const readAt = this.pending.get(conn)?.readAt;
    if (readAt !== undefined) this.metrics.connectStep.observe({ step: 'connack' }, (performance.now() - readAt) / 1000);
  }

  /** Closes the TLS connections still in their handshake (at shutdown: a server's close waits for them). */
  closeHandshakes(): void {
    for (const pending of this.handshakes.values()) pending.stream.destroy();
    this.handshakes.clear();
  }

  /** Connections from `address` waiting for their CONNACK. */
  pendingFrom(address: string | undefined): number {
    return this.pendingByAddress.get(addressKey(address)) ?? 0;
  }

  /** Addresses with a connection waiting for its CONNACK. */
  get pendingAddresses(): number {
    return this.pendingByAddress.size;
  }

  private open(socket: Socket): Pending | undefined {
    const address = addressKey(socket.remoteAddress);
    const count = this.pendingByAddress.get(address) ?? 0;
    if (count >= this.config.mqtt.maxPendingPerAddress) {
      this.close(socket, 'pending-per-address');
      return undefined;
    }
    this.pendingByAddress.set(address, count + 1);
    let open = true;
    const acceptedAt = performance.now();
    const pending: Pending = {
      stream: socket,
      received: () => {
        if (!open) return;
        pending.readAt = performance.now();
        this.metrics.connectStep.observe({ step: 'read' }, (pending.readAt - acceptedAt) / 1000);
        // A slow client is cut at connectTimeoutMs; a CONNECT that waits on the broker (a reconnect
        // storm's authentication queue) is not closed for it — closing it would only make the
        // device connect again, and the storm worse — within a bound of the broker's own.
        clearTimeout(deadline);
        deadline = setTimeout(() => this.close(pending.stream, 'connect-timeout'), Math.max(this.config.mqtt.connectTimeoutMs, BROKER_CONNECT_BOUND_MS));
        deadline.unref();
      },
      settle: () => {
        if (!open) return;
        open = false;
        clearTimeout(deadline);
        const left = (this.pendingByAddress.get(address) ?? 1) - 1;
        if (left > 0) this.pendingByAddress.set(address, left);
        else this.pendingByAddress.delete(address);
      },
      unguard: () => undefined,
    };
    let deadline = setTimeout(() => this.close(pending.stream, 'connect-timeout'), this.config.mqtt.connectTimeoutMs);
    deadline.unref();
    socket.once('close', pending.settle);
    return pending;
  }

  private guard(pending: Pending, stream: Socket): void {
    const framing = new PacketFraming();
    pending.stream = stream;
    pending.framing = framing;
    pending.unguard = guardSocket(stream, framing, (why) => {
      const publish = framing.oversizePublish;
      if (publish && pending.client !== undefined && this.oversize) this.closeOversize(stream, pending, publish, this.oversize);
      else this.close(stream, why, pending.client);
    });
    this.pending.set(stream, pending);
  }

  /**
   * A device's PUBLISH over 4 KiB: its payload is never read and the connection is closed
   * (CONTRACT §2), but the PUBLISH is acknowledged (PUBACK), so that a device does not send it
   * again on every reconnection, and the device is answered — a press gets its `rejected` ack
   * exactly once: on a clean session before the connection closes; on a persistent session after
   * it, so that the ack waits in the session and is delivered once the device is back (sent on the
   * closing connection, it would be sent again on the next one, its PUBACK never read).
   */
  private closeOversize(stream: Socket, pending: Pending, publish: OversizePublish, handler: OversizeHandler): void {
    const client = pending.client!;
    this.metrics.connectionsClosed.inc({ reason: 'packet-too-large' });
    this.logger.warn(`${logSafe(client)}: ${publish.bytes}-byte publish to ${logSafe(publish.topic)} refused; connection closed (packet-too-large)`);
    const own = handler.accepts(client, publish.topic);
    const answered = () =>
      own
        ? Promise.race([handler.answer(client, publish), new Promise<void>((resolve) => setTimeout(resolve, OVERSIZE_ANSWER_MS).unref())]).catch(() => undefined)
        : Promise.resolve();
    const close = () => {
      // MQTT 3.1.1 §3.4: PUBACK, packet type 4, remaining length 2, the packet identifier.
      if (own && publish.qos === 1 && publish.messageId !== undefined && stream.writable) {
        stream.write(Buffer.from([0x40, 0x02, publish.messageId >> 8, publish.messageId & 0xff]));
      }
      stream.end();
      setTimeout(() => stream.destroy(), OVERSIZE_ANSWER_MS).unref();
    };
    if (pending.persistent) {
      close();
      stream.once('close', () => void answered());
    } else {
      void answered().then(close);
    }
  }

  /**
   * Closes and counts. Only an authenticated client's closure is logged: a line per anonymous
   * attempt would let anyone flood the log, and the counter already tells how many there were.
   */
  private close(socket: Socket, reason: GateCloseReason, client?: string): void {
    this.metrics.connectionsClosed.inc({ reason });
    if (client !== undefined) this.logger.warn(`${logSafe(client)}: connection closed (${reason})`);
    socket.destroy();
  }
}

/** One TCP connection, as seen from both its TCP socket and the TLS socket over it. */
function connectionKey(socket: Socket): string {
  return `${socket.localAddress}|${socket.localPort}|${socket.remoteAddress}|${socket.remotePort}`;
}
