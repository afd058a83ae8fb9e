import type { PlatformEvent } from '@amr/runtime';
import type { TechnicalAlertType } from '@amr/persistence';
import { iso } from './alarm-view.js';

/**
 * A technical alert as the CICs see it (API, SSE `alert.*`, webhooks): distinct from an alarm,
 * never dispatched (CONTRACT §4 alerts). The case and CIC are kept in its details when raised.
 */
export interface AlertView {
  id: string;
  deviceId: string;
  type: TechnicalAlertType;
  caseId: string | null;
  cicId: string | null;
  raisedAt: string;
  clearedAt: string | null;
  acknowledgedAt: string | null;
  acknowledgedBy: string | null;
  details: Record<string, unknown>;
}

/** What is stored of an alert, as an entity or as a row returned by SQL. */
export interface AlertRecord {
  id: string;
  deviceId: string;
  type: TechnicalAlertType;
  raisedAt: Date | string;
  clearedAt: Date | string | null;
  acknowledgedAt?: Date | string | null;
  acknowledgedBy?: string | null;
  details: Record<string, unknown> | null;
}

export function alertView(a: AlertRecord): AlertView {
  const details = a.details ?? {};
  return {
    id: a.id,
    deviceId: a.deviceId,
    type: a.type,
    caseId: typeof details.caseId === 'string' ? details.caseId : null,
    cicId: typeof details.cicId === 'string' ? details.cicId : null,
    raisedAt: iso(a.raisedAt)!,
    clearedAt: iso(a.clearedAt),
    acknowledgedAt: iso(a.acknowledgedAt),
    acknowledgedBy: a.acknowledgedBy ?? null,
    details,
  };
}

/** A technical alert's change, for its case's CIC (CONTRACT §4 events `alert.*`). */
export function alertEvent(type: 'alert.raised' | 'alert.cleared' | 'alert.acknowledged', alert: AlertView): PlatformEvent {
  return { type, cicIds: alert.cicId ? [alert.cicId] : [], data: alert };
}
