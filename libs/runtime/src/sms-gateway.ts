import { Logger } from '@nestjs/common';
import type { AmrConfig } from '@amr/config';
import type { Metrics } from './metrics.js';

/** A gateway that does not answer within this time has failed that attempt. */
export const SMS_GATEWAY_TIMEOUT_MS = 5_000;
/** Waits between attempts: a text is tried six times over about a minute, then given up. */
export const SMS_RETRY_DELAYS_MS: readonly number[] = [1_000, 2_000, 5_000, 15_000, 30_000];

/** How a text fared: handed to the gateway (2xx) after this many attempts, or given up. */
export type SmsDelivery = { sent: true; attempts: number } | { sent: false; attempts: number; error: string };

/**
 * The platform's side of the SMS gateway (CONTRACT §6): `POST $AMR_SMS_GATEWAY_URL` with JSON
 * `{to, text}`. A text that fails (no answer in time, a network error, 5xx, 429) is tried again
 * with growing delays, a bounded number of times; a 4xx other than 429 is not retried (the gateway
 * refuses that text: sending it again changes nothing). Every text is its own promise: a slow or
 * failing gateway for one device never holds up another's.
 */
export class SmsGateway {
  private readonly logger = new Logger('SmsGateway');

  constructor(
    private readonly config: AmrConfig,
    private readonly metrics: Metrics,
    private readonly delaysMs: readonly number[] = SMS_RETRY_DELAYS_MS,
  ) {}

  /** False when AMR_SMS_GATEWAY_URL is unset: nothing goes out by SMS. */
  get enabled(): boolean {
    return this.config.sms.gatewayUrl !== undefined;
  }

  /** Resolves (never rejects) once the text is with the gateway or given up. */
  async send(to: string, text: string): Promise<SmsDelivery> {
    const url = this.config.sms.gatewayUrl;
    if (!url) return { sent: false, attempts: 0, error: 'AMR_SMS_GATEWAY_URL is not set' };
    let error = '';
    for (let attempt = 1; ; attempt++) {
      const outcome = await this.attempt(url, to, text);
      if (outcome === 'sent') {
        this.metrics.smsSent.inc({ outcome: 'sent' });
        return { sent: true, attempts: attempt };
      }
      error = outcome.error;
      const delay = this.delaysMs[attempt - 1];
      if (!outcome.retry || delay === undefined) {
        this.metrics.smsSent.inc({ outcome: 'failed' });
        this.logger.error(`SMS to ${to} given up after ${attempt} attempt(s): ${error}`);
        return { sent: false, attempts: attempt, error };
      }
      this.metrics.smsSent.inc({ outcome: 'retried' });
      await new Promise((resolve) => setTimeout(resolve, delay).unref());
    }
  }

  private async attempt(url: string, to: string, text: string): Promise<'sent' | { retry: boolean; error: string }> {
    try {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ to, text }),
        signal: AbortSignal.timeout(SMS_GATEWAY_TIMEOUT_MS),
      });
      await res.body?.cancel();
      if (res.ok) return 'sent';
      return { retry: res.status >= 500 || res.status === 429 || res.status === 408, error: `HTTP ${res.status}` };
    } catch (err) {
      return { retry: true, error: err instanceof Error ? err.message : String(err) };
    }
  }
}
