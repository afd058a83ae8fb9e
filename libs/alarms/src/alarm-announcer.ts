import { Inject, Injectable } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { GroupCommit } from '@amr/persistence';
import { DATA_SOURCE, Metrics, PlatformEvents, type PlatformEventType } from '@amr/runtime';
import { alarmAudience, loadAlarmViews, type AlarmView } from './alarm-view.js';

interface Announcement {
  readonly id: string;
  /** process.hrtime.bigint() when it was asked for. */
  readonly askedAt: bigint;
  readonly type: PlatformEventType;
  readonly resolve: (view: AlarmView) => void;
  readonly reject: (err: unknown) => void;
}

/** An alarm to announce was not found (deleted in the meantime). */
class AlarmGone extends Error {
  constructor(id: string) {
    super(`alarm ${id} is gone`);
  }
}

/**
 * Publishes alarm changes that are not themselves a stage change (a press joining an alarm), with
 * the alarm as stored now, to every CIC that may see it (the responsible one, the home one). The
 * changes of the moment are read together, in one statement, and written to the event log
 * together. A stage change writes its event in its own transaction (AlarmStages).
 */
@Injectable()
export class AlarmAnnouncer {
  private readonly announcements = new GroupCommit<Announcement>((batch) => this.announceBatch(batch), { maxBatch: 200 });

  constructor(
    @Inject(DATA_SOURCE) private readonly db: DataSource,
    private readonly events: PlatformEvents,
    private readonly metrics: Metrics,
  ) {}

  private announce(alarm: { id: string }, type: PlatformEventType): Promise<AlarmView> {
    return new Promise((resolve, reject) => this.announcements.add({ id: alarm.id, type, askedAt: process.hrtime.bigint(), resolve, reject }));
  }

  /** Announces an alarm as it is stored now (nothing, if it is gone). */
  async announceById(id: string, type: PlatformEventType): Promise<void> {
    await this.announce({ id }, type).catch((err: unknown) => {
      if (!(err instanceof AlarmGone)) throw err;
    });
  }

  private async announceBatch(batch: Announcement[]): Promise<void> {
    try {
      const views = new Map((await loadAlarmViews(this.db.manager, batch.map((a) => a.id))).map((v) => [v.id, v]));
      await Promise.all(
        batch.map(async ({ id, type, askedAt, resolve, reject }) => {
          const view = views.get(id);
          if (!view) return reject(new AlarmGone(id));
          await this.events.publish({ type, cicIds: alarmAudience(view), data: view });
          this.metrics.announceDelay.observe(Number(process.hrtime.bigint() - askedAt) / 1e9);
          resolve(view);
        }),
      );
    } catch (err) {
      for (const a of batch) a.reject(err);
    }
  }
}
