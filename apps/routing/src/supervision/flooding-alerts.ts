import { Inject, Injectable, Logger } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { DATA_SOURCE, Metrics, PlatformEvents, type Execute } from '@amr/runtime';
import { alertEvent, alertView, type AlertRecord, type AlertView } from '@amr/alarms';
import { ALERT_COLUMNS } from './supervision.rules.js';

/** A flooding alert clears once the device has stayed within its bounds this long. */
export const FLOODING_QUIET_S = 600;


/**
 * The technical alert `flooding` (CONTRACT §2): a device queued more work than a real button ever
 * has — a faulty firmware or stolen credentials — and was disconnected. Its case's CIC is told
 * once; repeated floods only update the alert (`lastAt`, `floods`), and it clears after
 * FLOODING_QUIET_S without one (SupervisionService runs the clearing with its sweep).
 */
@Injectable()
export class FloodingAlerts {
  private readonly logger = new Logger('Flooding');

  constructor(
    @Inject(DATA_SOURCE) private readonly db: DataSource,
    private readonly events: PlatformEvents,
    private readonly metrics: Metrics,
  ) {}

  async raise(deviceId: string, queued: number, now = new Date()): Promise<void> {
    const alert = await this.db.transaction(async (tx) => {
      const rows: (AlertRecord & { inserted: boolean })[] = await tx.query(
        `INSERT INTO alerts AS a (device_id, type, raised_at, details)
         SELECT d.id, 'flooding', $2::timestamptz,
                jsonb_build_object('caseId', d.case_id, 'cicId', c.home_cic_id, 'queued', $3::int, 'lastAt', $2::timestamptz, 'floods', 1)
           FROM devices d LEFT JOIN cases c ON c.id = d.case_id
          WHERE d.id = $1
         ON CONFLICT (device_id, type) WHERE cleared_at IS NULL
         DO UPDATE SET details = a.details || jsonb_build_object('lastAt', $2::timestamptz, 'floods', COALESCE((a.details->>'floods')::int, 1) + 1)
         RETURNING ${ALERT_COLUMNS}, (xmax = 0) AS inserted`,
        [deviceId, now, queued],
      );
      const row = rows[0];
      if (!row?.inserted) return undefined;
      const alert = alertView(row);
      await PlatformEvents.append((text, values) => tx.query(text, values), [alertEvent('alert.raised', alert)]);
      return alert;
    });
    if (!alert) return;
    this.events.committed();
    this.metrics.alertsRaised.inc({ type: alert.type });
    this.logger.warn(`${deviceId}: flooding (more than ${queued} messages queued): disconnected, alert raised for ${alert.cicId ?? 'no CIC'}`);
  }

  /** Clears the flooding alerts of devices quiet for FLOODING_QUIET_S, in the sweep's transaction (which announces them). */
  async clearQuiet(execute: Execute, now = new Date()): Promise<AlertView[]> {
    const rows = (await execute(
      `UPDATE alerts a SET cleared_at = $1::timestamptz, details = a.details || jsonb_build_object('clearedBecause', 'quiet')
        WHERE a.type = 'flooding' AND a.cleared_at IS NULL
          AND COALESCE((a.details->>'lastAt')::timestamptz, a.raised_at) < $1::timestamptz - make_interval(secs => $2::int)
       RETURNING ${ALERT_COLUMNS}`,
      [now, FLOODING_QUIET_S],
    )) as AlertRecord[];
    return rows.map(alertView);
  }
}
