import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readSmsAck, type AckMessage } from '@amr/protocol';

/** One text the platform posted to the gateway. */
export interface PostedSms {
  to: string;
  text: string;
}

/**
 * A stand-in for an SMS gateway (CONTRACT §6): an HTTP server on an ephemeral port that takes the
 * platform's `{to, text}` posts, answers 503 to the next `failNext` of them, and lets a test wait
 * for a text.
 */
export class FakeSmsGateway {
  readonly posted: PostedSms[] = [];
  /** Posts answered 503 (a transient failure), counted down. */
  failNext = 0;
  refusedWith503 = 0;
  private waiters: { match: (s: PostedSms) => boolean; resolve: (s: PostedSms) => void }[] = [];

  private constructor(private readonly server: Server) {}

  static async start(): Promise<FakeSmsGateway> {
    const server = createServer({ noDelay: true });
    const gateway = new FakeSmsGateway(server);
    server.on('request', (req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
      req.on('end', () => {
        if (gateway.failNext > 0) {
          gateway.failNext -= 1;
          gateway.refusedWith503 += 1;
          res.writeHead(503).end();
          return;
        }
        const sms = JSON.parse(body) as PostedSms;
        gateway.posted.push(sms);
        gateway.waiters = gateway.waiters.filter((w) => (w.match(sms) ? (w.resolve(sms), false) : true));
        res.writeHead(202, { 'content-type': 'application/json' }).end('{"queued":true}');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return gateway;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/send`;
  }

  /** Resolves with the first ack sent to `to` (already posted or arriving) that verifies with `key` and matches. */
  ack(to: string, key: Uint8Array, match: (a: AckMessage) => boolean, timeoutMs = 10_000): Promise<AckMessage> {
    const read = (s: PostedSms) => {
      if (s.to !== to) return null;
      const ack = readSmsAck(s.text, key);
      return ack.ok && match(ack.value) ? ack.value : null;
    };
    const seen = this.posted.map(read).find((a) => a !== null);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no matching SMS ack to ${to} within ${timeoutMs} ms; posted: ${JSON.stringify(this.posted)}`)), timeoutMs);
      this.waiters.push({ match: (s) => read(s) !== null, resolve: (s) => (clearTimeout(timer), resolve(read(s)!)) });
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
