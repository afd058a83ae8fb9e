import type { Socket } from 'node:net';

/** CONTRACT §2: any MQTT packet over 4 KiB from a device or a client not yet authenticated. */
export const MAX_PACKET_BYTES = 4096;

/** Why a connection's byte stream is refused. */
export type FramingViolation = 'packet-too-large' | 'malformed-length';

/** What is read of a PUBLISH over the limit: the head of its body, never its payload. */
export interface OversizePublish {
  readonly topic: string;
  readonly qos: number;
  /** Its packet identifier (QoS 1 and 2). */
  readonly messageId: number | undefined;
  /** The payload's first byte, which tells CBOR from JSON (CONTRACT §3). */
  readonly firstByte: number | undefined;
  /** The whole packet's size, fixed header included. */
  readonly bytes: number;
}

/** A topic longer than this is not read: the PUBLISH is refused without an answer. */
const MAX_TOPIC_BYTES = 256;

/**
 * Follows the packet boundaries of one MQTT byte stream by reading only fixed headers (MQTT 3.1.1
 * §2.2): the type byte and the Remaining Length, then skipping that many bytes. It never holds a
 * byte, so a packet's size is known from its first 2–5 bytes, before its body is received.
 */
export class PacketFraming {
  /** Body bytes of the current packet still to come. */
  private body = 0;
  /** Bytes of the current fixed header seen so far (0: at a packet boundary). */
  private header = 0;
  private length = 0;
  private multiplier = 1;

  /** Set when a PUBLISH over the limit was read up to its payload (with `readOversizePublish`). */
  oversizePublish: OversizePublish | undefined;
  /** The first byte of the packet whose fixed header is being read. */
  private type = 0;
  /** Reading the head of an oversize PUBLISH: its bytes so far and how many it needs. */
  private head: { bytes: number[]; need: number; size: number } | undefined;

  /**
   * `limit`: the largest packet allowed, fixed header included. `readOversizePublish`: a PUBLISH
   * over it is read up to its first payload byte (topic, packet id: a few dozen bytes), so that it
   * can be answered before the connection is closed; its payload is never held.
   */
  constructor(
    public limit: number = MAX_PACKET_BYTES,
    public readOversizePublish = false,
  ) {}

  /** True while the head of an oversize PUBLISH is still to come: its bytes are not for aedes. */
  get readingOversize(): boolean {
    return this.head !== undefined;
  }

  /** Takes the next bytes of the stream; returns why the stream must stop, or undefined. */
  feed(chunk: Uint8Array): FramingViolation | undefined {
    const end = chunk.length;
    let i = 0;
    while (i < end) {
      if (this.head) {
        this.head.bytes.push(chunk[i++]!);
        if (this.readHead()) return 'packet-too-large';
        continue;
      }
      if (this.body > 0) {
        const step = Math.min(this.body, end - i);
        this.body -= step;
        i += step;
        continue;
      }
      const byte = chunk[i++]!;
      if (this.header === 0) {
        // The type and flags byte; aedes' parser judges them.
        this.type = byte;
        this.header = 1;
        this.length = 0;
        this.multiplier = 1;
        continue;
      }
      // MQTT 3.1.1 §2.2.3: Remaining Length, 7 bits per byte, least significant first, 1–4 bytes.
      this.length += (byte & 0x7f) * this.multiplier;
      this.header += 1;
      if (byte & 0x80) {
        if (this.header === 5) return 'malformed-length'; // a fifth length byte announced
        this.multiplier *= 128;
        continue;
      }
      if (this.header + this.length > this.limit) {
        // MQTT 3.1.1 §3.3.1: type 3 is PUBLISH; QoS in bits 1-2 of the first byte.
        if (!this.readOversizePublish || this.type >> 4 !== 3) return 'packet-too-large';
        this.head = { bytes: [], need: 2, size: this.header + this.length };
        continue;
      }
      this.body = this.length;
      this.header = 0;
    }
    return undefined;
  }

  /**
   * MQTT 3.1.1 §3.3.2: topic length (2 bytes), topic, packet id (2 bytes, QoS > 0), then the
   * payload. True once the head is complete, or cannot be read (a topic over MAX_TOPIC_BYTES).
   */
  private readHead(): boolean {
    const head = this.head!;
    if (head.bytes.length < head.need) return false;
    const qos = (this.type >> 1) & 3;
    const topicLength = (head.bytes[0]! << 8) | head.bytes[1]!;
    if (topicLength > MAX_TOPIC_BYTES) {
      this.head = undefined;
      return true;
    }
    const need = 2 + topicLength + (qos > 0 ? 2 : 0) + 1;
    if (head.need < need) {
      head.need = need;
      return head.bytes.length >= need && this.readHead();
    }
    const at = 2 + topicLength;
    this.oversizePublish = {
      topic: Buffer.from(head.bytes.slice(2, at)).toString('utf8'),
      qos,
      messageId: qos > 0 ? (head.bytes[at]! << 8) | head.bytes[at + 1]! : undefined,
      firstByte: head.bytes[need - 1],
      bytes: head.size,
    };
    this.head = undefined;
    return true;
  }
}

/**
 * Puts `framing` on the bytes `socket` receives, as they arrive and before they are buffered: the
 * socket's own `push` (where it hands each chunk read to its readable side) is wrapped, so the
 * bytes are neither copied nor delayed, and the socket stays the one aedes reads (its
 * `remoteAddress`, `setNoDelay`, TLS state untouched). A chunk that breaks the framing is dropped
 * and `onViolation` called, once; it is expected to destroy the socket. Returns a function that
 * takes the guard off again.
 */
export function guardSocket(socket: Socket, framing: PacketFraming, onViolation: (why: FramingViolation) => void): () => void {
  const push = socket.push;
  const own = Object.hasOwn(socket, 'push');
  let stopped = false;
  const guarded = function (this: Socket, chunk: unknown, encoding?: BufferEncoding): boolean {
    if (stopped) {
      // Still reading the head of an oversize PUBLISH: fed to the framing only, and read on.
      if (!framing.readingOversize || !(chunk instanceof Uint8Array)) return false;
      const violation = framing.feed(chunk);
      if (violation) onViolation(violation);
      return true;
    }
    if (chunk instanceof Uint8Array) {
      const violation = framing.feed(chunk);
      if (violation) {
        stopped = true;
        onViolation(violation);
        return false;
      }
      if (framing.readingOversize) {
        stopped = true;
        return true;
      }
    }
    return push.call(this, chunk, encoding);
  };
  socket.push = guarded;
  return () => {
    if (socket.push !== guarded) return;
    if (own) socket.push = push;
    else Reflect.deleteProperty(socket, 'push');
  };
}
