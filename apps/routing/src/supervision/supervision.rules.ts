import type { TechnicalAlertType } from '@amr/persistence';

/**
 * The supervision rules as SQL, one per technical alert type (docs/supervision.md). A rule is an
 * `overdue` condition over a device `d` and its case `c`; the sweep raises the alert for every
 * device where it holds and clears every open one where it no longer does, each in one statement.
 * `$1` is the sweep's clock; `$2` the rule's setting.
 */
export interface SupervisionRule {
  readonly type: TechnicalAlertType;
  /** true when the device is in trouble; `$1` = now, `$2` = `param` */
  readonly overdue: string;
  /** true while an open alert still holds (default: `overdue`); a wider condition gives hysteresis */
  readonly holds?: string;
  /** jsonb of what the operator should know when it is raised */
  readonly details: string;
  /** why an open alert no longer holds (jsonb text), knowing it was raised at `a.raised_at` */
  readonly clearedBecause: string;
  readonly param?: number;
}

/** Assigned to an open case, active, its grant running: the platform answers for this button. */
export const SUPERVISED = `(d.active AND d.case_id IS NOT NULL AND c.closed_at IS NULL
  AND (d.grant_expires_at IS NULL OR d.grant_expires_at > $1::timestamptz))`;

/** Supervision of a device never heard from counts from its assignment (or provisioning). */
const SINCE = `COALESCE(d.assigned_at, d.created_at)`;

/**
 * When the device falls silent: its last contact (or assignment) plus its heartbeat and grace. The
 * function is indexed over the devices a case holds (migration SupervisionDue), so the sweep reads
 * only the devices already past it, not the fleet.
 */
const SILENT_DUE = `device_silent_due(d.last_seen_at, ${SINCE}, d.heartbeat_s, d.grace_s)`;

const LAST_SELF_TEST = `(SELECT max(t.received_at) FROM alarms t WHERE t.device_id = d.id AND t.kind = 'test')`;
const SELF_TEST_DUE = `(GREATEST(${LAST_SELF_TEST}, ${SINCE}) + make_interval(secs => $2::int + d.grace_s))`;

export function supervisionRules(settings: { lowBatteryPct: number; selfTestEveryS: number }): SupervisionRule[] {
  return [
    {
      type: 'silent',
      overdue: `${SUPERVISED} AND ${SILENT_DUE} < $1::timestamptz`,
      details: `jsonb_build_object('lastSeenAt', d.last_seen_at, 'heartbeatS', d.heartbeat_s, 'graceS', d.grace_s, 'dueAt', ${SILENT_DUE})`,
      clearedBecause: `CASE WHEN d.last_seen_at > a.raised_at THEN 'device-spoke' WHEN NOT ${SUPERVISED} THEN 'not-supervised' ELSE 'settings-changed' END`,
    },
    {
      type: 'low-battery',
      overdue: `${SUPERVISED} AND d.battery < $2::int`,
      holds: `${SUPERVISED} AND d.battery < $2::int + 5`,
      details: `jsonb_build_object('battery', d.battery, 'thresholdPct', $2::int)`,
      // hysteresis: a battery hovering at the threshold does not raise and clear all day
      clearedBecause: `CASE WHEN d.battery >= $2::int + 5 THEN 'recharged' WHEN NOT ${SUPERVISED} THEN 'not-supervised' ELSE 'unknown-battery' END`,
      param: settings.lowBatteryPct,
    },
    {
      type: 'missed-self-test',
      overdue: `$2::int > 0 AND ${SUPERVISED} AND ${SELF_TEST_DUE} < $1::timestamptz`,
      details: `jsonb_build_object('lastSelfTestAt', ${LAST_SELF_TEST}, 'everyS', $2::int, 'graceS', d.grace_s, 'dueAt', ${SELF_TEST_DUE})`,
      clearedBecause: `CASE WHEN $2::int = 0 THEN 'self-test-supervision-off' WHEN NOT ${SUPERVISED} THEN 'not-supervised' ELSE 'self-test-received' END`,
      param: settings.selfTestEveryS,
    },
  ];
}

/** What both statements return: the alert, with the case and CIC it concerns. */
export const ALERT_COLUMNS = `id, device_id AS "deviceId", type, raised_at AS "raisedAt", cleared_at AS "clearedAt", details`;

/**
 * Raises the alert for every supervised device where the rule holds and none is open, in one
 * statement; the partial unique index (one open alert per device and type) keeps it idempotent
 * across nodes sweeping at the same moment. The case and its home CIC are kept in `details`, so the clearing reaches the same CIC
 * even after the device was unassigned.
 */
export function raiseSql(rule: SupervisionRule): string {
  return `
    WITH raised AS (
      INSERT INTO alerts (device_id, type, raised_at, details)
      SELECT d.id, '${rule.type}', $1::timestamptz,
             ${rule.details} || jsonb_build_object('caseId', d.case_id, 'cicId', c.home_cic_id)
      FROM devices d JOIN cases c ON c.id = d.case_id
      WHERE ${rule.overdue}
        AND NOT EXISTS (SELECT 1 FROM alerts o WHERE o.device_id = d.id AND o.type = '${rule.type}' AND o.cleared_at IS NULL)
      ON CONFLICT (device_id, type) WHERE cleared_at IS NULL DO NOTHING
      RETURNING ${ALERT_COLUMNS})
    SELECT * FROM raised`;
}

/** Clears every open alert of the rule's type whose condition no longer holds, in one statement. */
export function clearSql(rule: SupervisionRule): string {
  return `
    WITH cleared AS (
      UPDATE alerts a
      SET cleared_at = $1::timestamptz,
          details = a.details || jsonb_build_object('clearedBecause', ${rule.clearedBecause})
      FROM devices d LEFT JOIN cases c ON c.id = d.case_id
      WHERE a.device_id = d.id AND a.type = '${rule.type}' AND a.cleared_at IS NULL
        AND NOT COALESCE(${rule.holds ?? rule.overdue}, false)
      RETURNING a.id, a.device_id AS "deviceId", a.type, a.raised_at AS "raisedAt", a.cleared_at AS "clearedAt", a.details)
    SELECT * FROM cleared`;
}
