import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { OutboxSender } from '@amr/persistence';
import { DATA_SOURCE, PlatformEvents } from '@amr/runtime';
import { AlarmStages } from '../alarm-stages.js';
import { afterFailure, WEBHOOK_OPTIONS, type RetryKind, type WebhookOptions } from './webhook-options.js';
import { signWebhook, WEBHOOK_HEADERS } from './webhook-signature.js';
import { guardedLookup } from './webhook-address.js';
import { postOnce } from './webhook-request.js';

/** A claimed outbox row with what is needed to send it (read at send time: URL and secret may change). */
interface Claimed {
  id: string;
  integration_id: string;
  event_type: string;
  payload: Record<string, unknown> | null;
  attempts: number;
  created_at: Date | string;
  cic_id: string;
  webhook_url: string | null;
  webhook_secret: string | null;
  revoked_at: Date | string | null;
}

/**
 * Claims due deliveries. Only the oldest pending row of each integration is ever due (NOT EXISTS
 * an older pending one): an integration gets event n+1 only once event n is delivered or failed.
 * A claim counts the attempt and leases the row (next_attempt_at moves past the request's
 * deadline), so no other dispatcher — on this node or another, FOR UPDATE SKIP LOCKED — sends it
 * meanwhile, its successors stay behind it, and a node that dies mid-request leaves it to be
 * retried when the lease ends.
 */
const CLAIM = `
  WITH due AS (
    SELECT d.id FROM webhook_deliveries d
    WHERE d.state = 'pending' AND d.next_attempt_at <= now()
      AND NOT EXISTS (
        SELECT 1 FROM webhook_deliveries o
        WHERE o.integration_id = d.integration_id AND o.state = 'pending'
          AND (o.created_at, o.id) < (d.created_at, d.id))
    ORDER BY d.created_at, d.id
    LIMIT $1
    FOR UPDATE OF d SKIP LOCKED
  ), claimed AS (
    UPDATE webhook_deliveries w
    SET attempts = w.attempts + 1, next_attempt_at = now() + $2::double precision * interval '1 millisecond'
    FROM due WHERE w.id = due.id
    RETURNING w.id, w.integration_id, w.event_type, w.payload, w.attempts, w.created_at
  )
  SELECT c.*, i.cic_id, i.webhook_url, i.webhook_secret, i.revoked_at
  FROM claimed c JOIN integrations i ON i.id = c.integration_id
  ORDER BY c.created_at, c.id`;

/** Outcomes apply only to the attempt that was claimed (a lease that ran out may have been re-claimed). */
const DELIVERED = `
  UPDATE webhook_deliveries SET state = 'delivered', delivered_at = now()
  WHERE id = $1 AND attempts = $2 AND state = 'pending'`;
const RETRY = `
  UPDATE webhook_deliveries SET last_error = $3, next_attempt_at = now() + $4::double precision * interval '1 millisecond'
  WHERE id = $1 AND attempts = $2 AND state = 'pending'`;
const FAILED = `
  UPDATE webhook_deliveries SET state = 'failed', last_error = $3
  WHERE id = $1 AND attempts = $2 AND state = 'pending'`;

/** How much longer than the request deadline a claim is leased. */
const LEASE_MARGIN_MS = 10_000;
/** Of a receiver's error answer, this much goes into last_error. */
const ERROR_BODY_CHARS = 200;

/** `retry`: after the backoff, at once (the attempt was cut short by a shutdown), or never (no webhook any more). */
type Outcome = { readonly ok: true } | { readonly ok: false; readonly error: string; readonly retry: RetryKind };

/**
 * Sends the webhook outbox: polls for due rows (and is woken by new ones), POSTs each, signed, with
 * a deadline, and records the outcome — delivered on a 2xx, otherwise retried with backoff until
 * `maxAttempts`. The state is all in the database, so a restart resumes where it stopped.
 */
@Injectable()
export class WebhookDispatcher implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('Webhooks');

  constructor(
    @Inject(DATA_SOURCE) private readonly db: DataSource,
    private readonly alarms: AlarmStages,
    @Inject(WEBHOOK_OPTIONS) private readonly options: WebhookOptions,
    private readonly events: PlatformEvents,
  ) {}

  private unsubscribe: (() => void) | undefined;
  /** Every delivery resolves its host here: private addresses refused unless allowed (webhook-address.ts). */
  private readonly lookup = guardedLookup(this.options.allowPrivate);

  private readonly sender = new OutboxSender<Claimed>({
    name: 'Webhook outbox',
    concurrency: this.options.concurrency,
    sweepMs: this.options.pollIntervalMs,
    claim: (limit) => this.db.query(CLAIM, [limit, this.options.timeoutMs + LEASE_MARGIN_MS]),
    deliver: (row, shutdown) => this.deliver(row, shutdown),
    failed: (row, err) => this.logger.error(`Webhook ${row.id}: outcome not recorded: ${String(err)}`),
  });

  onApplicationBootstrap(): void {
    // New events (written here or on another node) may have filled the outbox.
    this.unsubscribe = this.events.onWritten(() => this.sender.wake());
    this.sender.start();
  }

  /** Stops polling, aborts requests in flight (they are retried at once on the next start) and waits for them. */
  async onModuleDestroy(): Promise<void> {
    this.unsubscribe?.();
    await this.sender.stop({ abort: true });
  }

  private async deliver(row: Claimed, shutdown: AbortSignal): Promise<void> {
    const outcome = await this.send(row, shutdown);
    if (outcome.ok) {
      await this.db.query(DELIVERED, [row.id, row.attempts]);
      this.logger.debug(`Webhook ${row.id} (${row.event_type}) delivered to integration ${row.integration_id}, attempt ${row.attempts}`);
      await this.acknowledge(row);
      return;
    }
    const next = afterFailure(outcome.retry, row.attempts, this.options);
    const where = `Webhook ${row.id} (${row.event_type}) to integration ${row.integration_id}`;
    if (next.giveUp) {
      await this.db.query(FAILED, [row.id, row.attempts, outcome.error]);
      this.logger.error(`${where} failed for good after ${row.attempts} attempt(s): ${outcome.error}`);
      return;
    }
    await this.db.query(RETRY, [row.id, row.attempts, outcome.error, next.delayMs]);
    if (outcome.retry === 'backoff') {
      this.logger.warn(`${where}: attempt ${row.attempts}/${this.options.maxAttempts} failed (${outcome.error}); next in ${Math.round(next.delayMs / 1000)} s`);
    }
  }

  /** One signed POST. Its body is serialised once: those bytes are signed and sent. */
  private async send(row: Claimed, shutdown: AbortSignal): Promise<Outcome> {
    if (row.revoked_at) return { ok: false, error: 'the integration was revoked', retry: 'never' };
    if (!row.webhook_url || !row.webhook_secret) return { ok: false, error: 'the integration has no webhook URL any more', retry: 'never' };
    const body = JSON.stringify({
      id: row.id,
      type: row.event_type,
      createdAt: new Date(row.created_at).toISOString(),
      data: row.payload,
    });
    const timestampS = Math.floor(Date.now() / 1000);
    const deadline = AbortSignal.timeout(this.options.timeoutMs);
    try {
      const res = await postOnce(
        row.webhook_url,
        {
          'Content-Type': 'application/json',
          'User-Agent': 'AMR-Webhooks/1',
          [WEBHOOK_HEADERS.eventId]: row.id,
          [WEBHOOK_HEADERS.eventType]: row.event_type,
          [WEBHOOK_HEADERS.signature]: signWebhook(row.webhook_secret, timestampS, body),
        },
        body,
        { signal: AbortSignal.any([shutdown, deadline]), lookup: this.lookup },
      );
      if (res.status >= 200 && res.status < 300) return { ok: true };
      const answer = res.answer.replace(/\s+/g, ' ').trim().slice(0, ERROR_BODY_CHARS);
      const redirect = res.status >= 300 && res.status < 400 ? ' (redirects are not followed: configure the final URL)' : '';
      return { ok: false, error: `HTTP ${res.status}${redirect}${answer ? `: ${answer}` : ''}`, retry: 'backoff' };
    } catch (err) {
      if (shutdown.aborted) return { ok: false, error: 'interrupted: the platform shut down during the request', retry: 'now' };
      if (deadline.aborted) return { ok: false, error: `no answer within ${this.options.timeoutMs} ms`, retry: 'backoff' };
      return { ok: false, error: networkError(err, row.webhook_url), retry: 'backoff' };
    }
  }

  /**
   * A 2xx for an alarm event: the CIC has the alarm. Its first delivery to the responsible CIC is
   * recorded in the alarm's timeline — as for SSE, by any event carrying the open alarm
   * (received, pressed, a re-notification); every delivery of case data is a case read (§4).
   */
  private async acknowledge(row: Claimed): Promise<void> {
    if (!row.event_type.startsWith('alarm.')) return;
    const data = row.payload ?? {};
    const alarmId = typeof data.id === 'string' ? data.id : null;
    try {
      const undelivered = typeof data.stage === 'string' && data.stage !== 'closed' && !data.deliveredAt;
      if (alarmId && undelivered && data.cicId === row.cic_id) {
        await this.alarms.markDelivered(alarmId, { channel: 'webhook', integrationId: row.integration_id });
      }
      if (typeof data.caseId === 'string') await this.alarms.caseSent({ id: alarmId, caseId: data.caseId }, row.integration_id, 'webhook');
    } catch (err) {
      this.logger.error(`Webhook ${row.id} delivered, but alarm ${alarmId ?? '?'} not marked delivered: ${String(err)}`);
    }
  }
}

/** A network failure as an integrator can act on it. */
function networkError(err: unknown, url: string): string {
  // fetch-style errors carry the reason as `cause`; node's http errors are the reason.
  const cause = (err as { cause?: { code?: string; message?: string } }).cause ?? (err as { code?: string; message?: string });
  const host = new URL(url).host;
  switch (cause?.code) {
    case 'ECONNREFUSED':
      return `connection refused by ${host}`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `host ${host} not found (DNS)`;
    case 'ECONNRESET':
    case 'UND_ERR_SOCKET':
      return `connection to ${host} closed before an answer`;
    case 'ETIMEDOUT':
    case 'UND_ERR_CONNECT_TIMEOUT':
      return `could not connect to ${host} in time`;
    case 'AMR_WEBHOOK_ADDRESS_REFUSED':
      return cause.message ?? `${host}: address refused`;
    default:
      if (cause?.code) return `${cause.code} (${host})${cause.message ? `: ${cause.message}` : ''}`;
      return `${String((err as Error).message ?? err)} (${host})`;
  }
}
