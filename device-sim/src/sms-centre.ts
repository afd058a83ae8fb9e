/**
 * The SMS centre and the SMS gateway, simulated (CONTRACT §6, docs/sms-gateway.md): what carries
 * a button's texts between the mobile network and the platform.
 *
 * - Outbound, the platform's side: an HTTP server on an ephemeral loopback port takes the
 *   platform's `POST $AMR_SMS_GATEWAY_URL {to, text}` (202 at once, as a gateway that queues), and
 *   after the network part of the delay (gateway, SMS centre and core network: sms-model.ts
 *   smsNetworkMs) hands the text to the button registered for `to`, whose radio adds its own part.
 * - Inbound, the button's side: `submit(from, text)` once the text has left the button's radio;
 *   after the network part it is posted to the platform's `POST /api/v1/sms/inbound` with the
 *   gateway token, and posted again on 503, other 5xx or no answer (1, 2, 5 s …), as the gateway
 *   page asks.
 *
 * Delays and the SMS centre's first-attempt failures come from SmsParams and a seeded random
 * source of its own, so that the buttons' radio draws do not depend on the SMS traffic.
 */
import { EventEmitter } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { smsNetworkMs, SMS_DEFAULTS, type SmsParams } from './sms-model.js';
import type { Random } from './network.js';

export interface SmsCentreStats {
  /** Texts the buttons submitted. */
  submitted: number;
  /** …posted to the platform and answered 200. */
  accepted: number;
  /** …refused by the platform (4xx), by status. */
  refused: Record<string, number>;
  /** Posts to the platform that are tried again (5xx, no answer). */
  repostsToPlatform: number;
  /** Texts the platform posted to the gateway. */
  fromPlatform: number;
  /** …handed to a button. */
  delivered: number;
  /** …for a number no button has. */
  unknownRecipient: number;
  /** Texts the SMS centre did not deliver at the first attempt (either way). */
  firstAttemptFailures: number;
}

/** POST delays the gateway uses after a failed post to the platform, ms (then the last, repeated). */
export const GATEWAY_RETRY_MS: readonly number[] = Object.freeze([1000, 2000, 5000]);

export class SmsCentre extends EventEmitter<{ posted: [{ from: string; status: number | null; final: boolean }] }> {
  readonly stats: SmsCentreStats = { submitted: 0, accepted: 0, refused: {}, repostsToPlatform: 0, fromPlatform: 0, delivered: 0, unknownRecipient: 0, firstAttemptFailures: 0 };
  private readonly phones = new Map<string, (text: string) => void>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private server: Server | undefined;
  private platform: { apiUrl: string; token: string } | undefined;
  private closed = false;

  constructor(
    private readonly random: Random,
    private readonly params: SmsParams = SMS_DEFAULTS,
  ) {
    super();
  }

  /** Listens on 127.0.0.1 (ephemeral port): the platform's AMR_SMS_GATEWAY_URL is `url` afterwards. */
  async listen(): Promise<void> {
    const server = createServer((req, res) => this.onRequest(req, res));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
  }

  get url(): string {
    if (!this.server) throw new Error('the SMS centre is not listening');
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/sms`;
  }

  /** Where inbound texts go: the platform's API and the gateway token it was started with. */
  connect(apiUrl: string, token: string): void {
    this.platform = { apiUrl, token };
  }

  /** A button's number: texts to `msisdn` go to `receive` (which adds the button's radio delay). */
  register(msisdn: string, receive: (text: string) => void): void {
    this.phones.set(msisdn, receive);
  }

  /** A text that has left the button's radio: through the network to the platform (a post still retrying at close() is dropped). */
  submit(from: string, text: string): void {
    this.stats.submitted += 1;
    this.later(this.networkMs(), () => void this.post(from, text));
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    const server = this.server;
    if (server) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  }

  // ---- internals -------------------------------------------------------------------------------

  private networkMs(): number {
    const ms = smsNetworkMs(this.params, this.random);
    if (ms >= this.params.smscRetryMs) this.stats.firstAttemptFailures += 1;
    return ms;
  }

  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      let sms: { to?: unknown; text?: unknown };
      try {
        sms = JSON.parse(body) as typeof sms;
      } catch {
        res.writeHead(400).end();
        return;
      }
      if (req.method !== 'POST' || typeof sms.to !== 'string' || typeof sms.text !== 'string') {
        res.writeHead(400).end();
        return;
      }
      res.writeHead(202, { 'content-type': 'application/json' }).end('{"queued":true}');
      this.stats.fromPlatform += 1;
      const receive = this.phones.get(sms.to);
      if (!receive) {
        this.stats.unknownRecipient += 1;
        return;
      }
      const text = sms.text;
      this.later(this.networkMs(), () => {
        this.stats.delivered += 1;
        receive(text);
      });
    });
  }

  private async post(from: string, text: string): Promise<void> {
    const platform = this.platform;
    if (!platform) throw new Error('the SMS centre has no platform to post to (connect first)');
    for (let attempt = 0; !this.closed; attempt++) {
      let status: number | null = null;
      try {
        const response = await fetch(`${platform.apiUrl}/api/v1/sms/inbound`, {
          method: 'POST',
          headers: { authorization: `Bearer ${platform.token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ from, text }),
          signal: AbortSignal.timeout(10_000),
        });
        status = response.status;
        await response.arrayBuffer();
      } catch {
        status = null; // no answer: post again
      }
      const final = status !== null && status < 500;
      if (status === 200) this.stats.accepted += 1;
      else if (final && status !== null) this.stats.refused[status] = (this.stats.refused[status] ?? 0) + 1; // docs/sms-gateway.md: drop it
      else this.stats.repostsToPlatform += 1;
      this.emit('posted', { from, status, final });
      if (final) return;
      await new Promise<void>((resolve) => this.later(GATEWAY_RETRY_MS[Math.min(attempt, GATEWAY_RETRY_MS.length - 1)]!, resolve));
    }
  }

  private later(ms: number, fn: () => void): void {
    if (this.closed) return;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      fn();
    }, Math.max(0, ms));
    this.timers.add(timer);
  }
}
