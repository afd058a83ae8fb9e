import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import type { AmrConfig } from '@amr/config';

/**
 * Slow requests are cut (docs/security.md, "HTTP limits"). Node's `headersTimeout` and
 * `requestTimeout` bound the time to *receive* a request — its headers, then all of it, body
 * included — and answer 408; they stop counting once the request has arrived, so a response that
 * lasts (an SSE stream) is not cut by them. Node checks them every `connectionsCheckingInterval`
 * (30 s by default): checked every second here, a slow request is cut within a second of its
 * deadline. A connection that sends nothing at all is not a request yet, so Node would hold it
 * forever: it is closed if it has not sent a byte `headersTimeoutMs` after it was accepted (one
 * that has is a request under way, which Node's deadlines answer with 408). Call before the server
 * listens.
 */
export function applyHttpTimeouts(server: Server, { headersTimeoutMs, requestTimeoutMs }: AmrConfig['http']): void {
  server.headersTimeout = headersTimeoutMs;
  server.requestTimeout = requestTimeoutMs;
  // A creation option in the typings; Node reads the property when the server starts listening.
  (server as Server & { connectionsCheckingInterval: number }).connectionsCheckingInterval = Math.min(1_000, headersTimeoutMs);
  server.on('connection', (socket: Socket) => {
    const timer = setTimeout(() => {
      if (socket.bytesRead === 0) socket.destroy();
    }, headersTimeoutMs);
    timer.unref();
    socket.once('close', () => clearTimeout(timer));
  });
}
