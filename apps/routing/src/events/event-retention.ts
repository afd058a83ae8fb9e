import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { DATA_SOURCE } from '@amr/runtime';

/** How long the event log keeps an event: how far back a stream can resume with Last-Event-ID. */
export const EVENT_RETENTION_H = 24;
const SWEEP_MS = 10 * 60_000;

/**
 * Trims the event log. The alarms and alerts themselves stay in their tables (with their
 * timelines); what ages out is only the record of their announcements. Any number of nodes may
 * run it: a DELETE of rows already deleted is a no-op.
 */
@Injectable()
export class EventRetention implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('EventRetention');
  private timer: NodeJS.Timeout | undefined;

  constructor(@Inject(DATA_SOURCE) private readonly db: DataSource) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.sweep(), SWEEP_MS);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  async sweep(): Promise<number> {
    try {
      const [, deleted] = (await this.db.query(
        `DELETE FROM platform_events WHERE at < now() - make_interval(hours => $1)`,
        [EVENT_RETENTION_H],
      )) as [unknown, number];
      return deleted ?? 0;
    } catch (err) {
      this.logger.error(`event log not trimmed: ${String(err)}`);
      return 0;
    }
  }
}
