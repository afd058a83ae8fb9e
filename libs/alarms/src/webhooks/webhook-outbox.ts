import { Inject, Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import type { Subscription } from 'rxjs';
import type { DataSource } from 'typeorm';
import { DATA_SOURCE, PlatformEvents } from '@amr/runtime';
import { WebhookDispatcher } from './webhook-dispatcher.js';

/**
 * One row per event per integration with a webhook, for a batch of events in one statement: the
 * integrations of every CIC each event is for, not revoked, with a URL. No cache, so an
 * integration configured a moment ago gets the very next event. `created_at` comes from the
 * process, strictly increasing, so the rows of one batch keep the order the events were published in.
 */
const ENQUEUE = `
  INSERT INTO webhook_deliveries (integration_id, event_type, payload, created_at)
  SELECT i.id, e.type, e.payload, e.created_at
  FROM ROWS FROM (jsonb_to_recordset($1::jsonb) AS (type text, payload jsonb, cic_ids text[], created_at timestamptz))
       WITH ORDINALITY AS e(type, payload, cic_ids, created_at, n)
  JOIN integrations i ON i.cic_id = ANY(e.cic_ids) AND i.revoked_at IS NULL AND i.webhook_url IS NOT NULL
  ORDER BY e.n
  RETURNING id`;

/** Events written in one statement at most. */
const MAX_BATCH = 500;

/**
 * The durable side of webhooks: every platform event becomes `webhook_deliveries` rows (the
 * outbox), which WebhookDispatcher sends and retries. Events are written in the order they were
 * published; those published while a write is in flight go together into the next one, so a
 * thousand alarms a second cost a few statements, not a thousand.
 */
@Injectable()
export class WebhookOutbox implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('Webhooks');
  private subscription: Subscription | undefined;
  private readonly queue: { type: string; payload: unknown; cic_ids: readonly string[]; created_at: string }[] = [];
  private writing: Promise<void> | undefined;
  /** The last created_at given, in microseconds since the epoch. */
  private lastMicros = 0;

  constructor(
    @Inject(DATA_SOURCE) private readonly db: DataSource,
    private readonly events: PlatformEvents,
    private readonly dispatcher: WebhookDispatcher,
  ) {}

  onModuleInit(): void {
    this.subscription = this.events.stream.subscribe((event) => {
      if (event.cicIds.length === 0) return;
      this.queue.push({ type: event.type, payload: event.data, cic_ids: event.cicIds, created_at: this.nextTimestamp() });
      this.writing ??= this.drain();
    });
  }

  /** Stops taking events and waits until those already published are written. */
  async onModuleDestroy(): Promise<void> {
    this.subscription?.unsubscribe();
    this.subscription = undefined;
    await this.writing;
  }

  private async drain(): Promise<void> {
    try {
      while (this.queue.length > 0) await this.enqueue(this.queue.splice(0, MAX_BATCH));
    } finally {
      this.writing = undefined;
    }
  }

  private async enqueue(batch: typeof this.queue): Promise<void> {
    try {
      const rows: unknown[] = await this.db.query(ENQUEUE, [JSON.stringify(batch)]);
      if (rows.length > 0) this.dispatcher.wake();
    } catch (err) {
      // The events themselves stand (in the database and on SSE); only their webhook copies are lost.
      this.logger.error(`${batch.length} event(s) not queued for webhooks: ${String(err)}`);
    }
  }

  /** Now, to the microsecond, and always after the previous one. */
  private nextTimestamp(): string {
    this.lastMicros = Math.max(Date.now() * 1000, this.lastMicros + 1);
    const ms = Math.floor(this.lastMicros / 1000);
    return `${new Date(ms).toISOString().slice(0, -1)}${String(this.lastMicros % 1000).padStart(3, '0')}Z`;
  }
}
