import { Inject, Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import type { Subscription } from 'rxjs';
import type { DataSource } from 'typeorm';
import { DATA_SOURCE, PlatformEvents, type PlatformEvent } from '@amr/runtime';
import { WebhookDispatcher } from './webhook-dispatcher.js';

/**
 * One row per event per integration with a webhook, in the same statement: the integrations of
 * every CIC the event is for, not revoked, with a URL. No cache, so an integration configured a
 * moment ago gets the very next event.
 */
const ENQUEUE = `
  INSERT INTO webhook_deliveries (integration_id, event_type, payload)
  SELECT i.id, $1, $2::jsonb
  FROM integrations i
  WHERE i.cic_id = ANY($3::text[]) AND i.revoked_at IS NULL AND i.webhook_url IS NOT NULL
  RETURNING id`;

/**
 * The durable side of webhooks: every platform event becomes `webhook_deliveries` rows (the
 * outbox), which WebhookDispatcher sends and retries. Events are written one after the other, in
 * the order they were published, so a row's created_at orders an integration's events.
 */
@Injectable()
export class WebhookOutbox implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('Webhooks');
  private subscription: Subscription | undefined;
  /** The tail of the write queue: each event is enqueued after the previous one committed. */
  private tail: Promise<void> = Promise.resolve();

  constructor(
    @Inject(DATA_SOURCE) private readonly db: DataSource,
    private readonly events: PlatformEvents,
    private readonly dispatcher: WebhookDispatcher,
  ) {}

  onModuleInit(): void {
    this.subscription = this.events.stream.subscribe((event) => {
      this.tail = this.tail.then(() => this.enqueue(event));
    });
  }

  /** Stops taking events and waits until those already published are written. */
  async onModuleDestroy(): Promise<void> {
    this.subscription?.unsubscribe();
    this.subscription = undefined;
    await this.tail;
  }

  private async enqueue(event: PlatformEvent): Promise<void> {
    if (event.cicIds.length === 0) return;
    try {
      const rows: unknown[] = await this.db.query(ENQUEUE, [event.type, JSON.stringify(event.data), [...event.cicIds]]);
      if (rows.length > 0) this.dispatcher.wake();
    } catch (err) {
      // The event itself stands (it is in the database and on SSE); only its webhook copy is lost.
      this.logger.error(`${event.type} for ${event.cicIds.join(', ')} not queued for webhooks: ${String(err)}`);
    }
  }
}
