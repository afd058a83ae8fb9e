import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { Inject, Injectable, Logger } from '@nestjs/common';
import type { AmrConfig } from '@amr/config';
import { AMR_CONFIG, Metrics, logSafe } from '@amr/runtime';
import { addressKey } from './auth-throttle.js';
import { PacketFraming, guardSocket, type FramingViolation } from './packet-guard.js';

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
  /** The client's id, once it has its CONNACK. */
  client?: string;
}

/**
 * The broker's connection-level limits, applied between the socket and aedes, before anything is
 * buffered (CONTRACT §2):
 * - every packet over 4 KiB (fixed header included) closes the connection as soon as its fixed
 *   header is read: until CONNACK for everyone, afterwards for every client but the platform's own
 *   (which publish commands and acks, and are trusted once authenticated);
 * - a connection whose CONNECT has not completed (authenticated, CONNACK sent) within
 *   `mqtt.connectTimeoutMs` of its TCP accept is closed, a TLS handshake included;
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

  /** CONNACK sent to client `clientId` reading `conn`: no longer pending; `trusted` lifts the packet limit. */
  ready(conn: object, trusted: boolean, clientId?: string): void {
    const pending = this.pending.get(conn);
    if (!pending) return;
    this.pending.delete(conn);
    pending.client = clientId;
    pending.settle();
    if (trusted) pending.unguard();
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
    const pending: Pending = {
      stream: socket,
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
    const deadline = setTimeout(() => this.close(pending.stream, 'connect-timeout'), this.config.mqtt.connectTimeoutMs);
    deadline.unref();
    socket.once('close', pending.settle);
    return pending;
  }

  private guard(pending: Pending, stream: Socket): void {
    pending.stream = stream;
    pending.unguard = guardSocket(stream, new PacketFraming(), (why) => this.close(stream, why, pending.client));
    this.pending.set(stream, pending);
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
