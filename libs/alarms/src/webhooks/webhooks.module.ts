import { Module } from '@nestjs/common';
import type { AmrConfig } from '@amr/config';
import { AMR_CONFIG } from '@amr/runtime';
import { AlarmsModule } from '../alarms.module.js';
import { WEBHOOK_DEFAULTS, WEBHOOK_OPTIONS, type WebhookOptions } from './webhook-options.js';
import { WebhookDispatcher } from './webhook-dispatcher.js';

/**
 * Webhooks: every platform event goes to the webhook of each integration of the CICs it is for —
 * through a durable outbox (filled in the event's own transaction by the event log's trigger),
 * signed, retried with backoff, in order.
 * A delivery channel of the alarms, like SSE: it tells AlarmStages when a CIC has an alarm.
 */
@Module({
  imports: [AlarmsModule],
  providers: [
    {
      provide: WEBHOOK_OPTIONS,
      inject: [AMR_CONFIG],
      useFactory: (config: AmrConfig): WebhookOptions => ({ ...WEBHOOK_DEFAULTS, ...config.webhooks }),
    },
    WebhookDispatcher,
  ],
  exports: [WebhookDispatcher],
})
export class WebhooksModule {}
