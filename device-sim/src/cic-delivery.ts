/**
 * A CIC's delivery confirmations (`POST /api/v1/alarms/{id}/delivered`, CONTRACT §4). An SSE write
 * alone is not delivery: until an integration of the alarm's CIC confirms it, the platform
 * escalates the alarm after its delivery timeout (notifies the CIC again, then hands the alarm to
 * the backup CIC). Each alarm is confirmed once per CIC, with the token of an integration of that
 * CIC: an alarm handed over arrives again with its new CIC, and is confirmed there too.
 *
 * The requests stay off the measuring path: at most `concurrency` in flight, the rest queued, so
 * that a thousand new alarms a second wait their turn instead of opening a socket each.
 */
import { postPatiently, type ApiClient } from './api.js';

/** The client that speaks for a CIC (an integration's token); undefined for a CIC without one. */
export type CicClients = (cicId: string | undefined) => ApiClient | undefined;

/** Where the outcomes are counted (the CIC's stats). */
export interface DeliveryCounts {
  /** Confirmations answered 2xx. */
  delivered: number;
  /** Confirmations refused, given up, or impossible (no integration of the alarm's CIC). */
  deliveryErrors: string[];
}

/** Confirmations in flight at most, by default. */
export const DELIVERY_CONCURRENCY = 8;

interface Confirmation {
  client: ApiClient;
  path: string;
}

export class DeliveryConfirmations {
  /** `alarm id \n cic id` of every confirmation asked for. */
  private readonly asked = new Set<string>();
  private readonly queue: Confirmation[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  private stopped = false;

  constructor(
    private readonly clientFor: CicClients,
    private readonly counts: DeliveryCounts,
    private readonly concurrency = DELIVERY_CONCURRENCY,
  ) {}

  /** Queues the confirmation of an alarm at the CIC it is routed to (once per alarm and CIC). */
  confirm(alarm: { id: string; cicId?: string }): void {
    const key = `${alarm.id}\n${alarm.cicId ?? ''}`;
    if (this.stopped || this.asked.has(key)) return;
    this.asked.add(key);
    const client = this.clientFor(alarm.cicId);
    if (!client) {
      this.counts.deliveryErrors.push(`alarm ${alarm.id}: no integration of CIC ${alarm.cicId ?? '(none named)'} to confirm its delivery`);
      return;
    }
    this.queue.push({ client, path: `/api/v1/alarms/${encodeURIComponent(alarm.id)}/delivered` });
    this.next();
  }

  /** Nothing queued and nothing in flight. */
  get idle(): boolean {
    return this.queue.length === 0 && this.inFlight.size === 0;
  }

  /** Drops what is still queued and waits for the requests in flight (which try no more). */
  async stop(): Promise<void> {
    this.stopped = true;
    this.queue.length = 0;
    await Promise.allSettled([...this.inFlight]);
  }

  private next(): void {
    while (this.inFlight.size < this.concurrency && this.queue.length > 0) {
      const { client, path } = this.queue.shift()!;
      const call = postPatiently(client, path, {}, this.counts.deliveryErrors, () => this.stopped)
        .then((ok) => {
          if (ok) this.counts.delivered += 1;
        })
        .catch((error: unknown) => {
          this.counts.deliveryErrors.push(`POST ${path}: ${String(error)}`);
        })
        .finally(() => {
          this.inFlight.delete(call);
          this.next();
        });
      this.inFlight.add(call);
    }
  }
}
