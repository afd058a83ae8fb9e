import type { Socket } from 'node:net';

/** CONTRACT §2: any MQTT packet over 4 KiB from a device or a client not yet authenticated. */
export const MAX_PACKET_BYTES = 4096;

/** Why a connection's byte stream is refused. */
export type FramingViolation = 'packet-too-large' | 'malformed-length';

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

  /** The largest packet allowed, fixed header included. */
  constructor(public limit: number = MAX_PACKET_BYTES) {}

  /** Takes the next bytes of the stream; returns why the stream must stop, or undefined. */
  feed(chunk: Uint8Array): FramingViolation | undefined {
    const end = chunk.length;
    let i = 0;
    while (i < end) {
      if (this.body > 0) {
        const step = Math.min(this.body, end - i);
        this.body -= step;
        i += step;
        continue;
      }
      const byte = chunk[i++]!;
      if (this.header === 0) {
        // The type and flags byte; aedes' parser judges them.
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
      if (this.header + this.length > this.limit) return 'packet-too-large';
      this.body = this.length;
      this.header = 0;
    }
    return undefined;
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
    if (stopped) return false;
    if (chunk instanceof Uint8Array) {
      const violation = framing.feed(chunk);
      if (violation) {
        stopped = true;
        onViolation(violation);
        return false;
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
