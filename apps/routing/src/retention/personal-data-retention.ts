import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import type { AmrConfig } from '@amr/config';
import { AMR_CONFIG, DATA_SOURCE } from '@amr/runtime';
import { ERASED_PAYLOAD, PersonalDataErasure } from '@amr/alarms';
import { returned } from '@amr/persistence';
import { Periodic } from '../periodic.js';

/** Alarms erased per transaction: a sweep after a long stop works through its backlog in short steps. */
const ALARM_BATCH = 100;
const CASE_BATCH = 10;
const ACTOR = 'platform:retention';

export interface RetentionResult {
  alarms: number;
  cases: number;
  heartbeatPositions: number;
  webhookCopies: number;
}

/**
 * Personal-data retention (docs/security.md "Personal data"). Every AMR_RETENTION_SWEEP_MS:
 * - alarms closed more than AMR_RETAIN_ALARM_DATA_DAYS ago lose their positions, press payloads
 *   and outcome (PersonalDataErasure.eraseAlarms), and so do the positions in heartbeats and the
 *   webhook copies older than that;
 * - cases closed more than AMR_RETAIN_CASE_DATA_DAYS ago are erased (PersonalDataErasure.eraseCase).
 * Any number of nodes may sweep: rows are taken with FOR UPDATE SKIP LOCKED and re-checked, so each
 * alarm and case is erased once, by one node, and an erasure with its timeline entry is one
 * transaction.
 */
@Injectable()
export class PersonalDataRetention implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Retention');
  private readonly periodic = new Periodic(
    () => this.sweep(),
    (err) => this.logger.error(`retention sweep failed: ${String(err)}`),
  );

  constructor(
    @Inject(DATA_SOURCE) private readonly db: DataSource,
    @Inject(AMR_CONFIG) private readonly config: AmrConfig,
    private readonly erasure: PersonalDataErasure,
  ) {}

  onApplicationBootstrap(): void {
    this.periodic.start(this.config.retention.sweepMs, { unref: true });
  }

  onApplicationShutdown(): Promise<void> {
    return this.periodic.stop();
  }

  async sweep(now = new Date()): Promise<RetentionResult> {
    const alarmCutoff = daysBefore(now, this.config.retention.alarmDataDays);
    const caseCutoff = daysBefore(now, this.config.retention.caseDataDays);
    const result: RetentionResult = { alarms: 0, cases: 0, heartbeatPositions: 0, webhookCopies: 0 };

    result.alarms = await drain(ALARM_BATCH, () =>
      this.db.transaction(async (tx) => {
        const due = (await tx.query(
          `SELECT id FROM alarms WHERE stage = 'closed' AND closed_at < $1 AND personal_data_erased_at IS NULL
            ORDER BY closed_at LIMIT ${ALARM_BATCH} FOR UPDATE SKIP LOCKED`,
          [alarmCutoff],
        )) as { id: string }[];
        return (await this.erasure.eraseAlarms(tx, due.map((a) => a.id), 'retention', ACTOR, now)).length;
      }),
    );

    result.cases = await drain(CASE_BATCH, () =>
      this.db.transaction(async (tx) => {
        const due = (await tx.query(
          `SELECT id FROM cases c WHERE closed_at < $1 AND erased_at IS NULL
              AND NOT EXISTS (SELECT 1 FROM alarms a WHERE a.case_id = c.id AND a.stage <> 'closed')
            ORDER BY closed_at LIMIT ${CASE_BATCH} FOR UPDATE SKIP LOCKED`,
          [caseCutoff],
        )) as { id: string }[];
        for (const { id } of due) await this.erasure.eraseCase(id, 'retention', ACTOR, tx);
        return due.length;
      }),
    );

    const [, positions] = returnedCount(await this.db.query(
      `UPDATE device_status_reports SET position = NULL WHERE received_at < $1 AND position IS NOT NULL`,
      [alarmCutoff],
    ));
    result.heartbeatPositions = positions;
    const [, copies] = returnedCount(await this.db.query(
      `UPDATE webhook_deliveries SET payload = ${ERASED_PAYLOAD}
        WHERE created_at < $1 AND state <> 'pending' AND payload <> ${ERASED_PAYLOAD}`,
      [alarmCutoff],
    ));
    result.webhookCopies = copies;

    if (result.alarms + result.cases > 0) {
      this.logger.log(`personal data erased: ${result.alarms} alarm(s), ${result.cases} case(s), ${result.heartbeatPositions} heartbeat position(s), ${result.webhookCopies} webhook copies`);
    }
    return result;
  }
}

/** Runs `step` (one transaction) until it handles fewer than a full batch; the total handled. */
async function drain(batch: number, step: () => Promise<number>): Promise<number> {
  let total = 0;
  for (let handled = batch; handled === batch; total += handled) handled = await step();
  return total;
}

function daysBefore(now: Date, days: number): Date {
  return new Date(now.getTime() - days * 86_400_000);
}

/** An UPDATE's rows and count, as TypeORM answers it. */
function returnedCount(result: unknown): [unknown[], number] {
  const pair = result as [unknown[], number];
  return [returned(result), typeof pair[1] === 'number' ? pair[1] : 0];
}
