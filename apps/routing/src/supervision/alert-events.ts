import type { Metrics, PlatformEvents } from '@amr/runtime';
import type { AlertView } from '@amr/alarms';

/** A technical alert raised or cleared: counted, and announced to its case's CIC. */
export function publishAlert(events: PlatformEvents, metrics: Metrics, type: 'alert.raised' | 'alert.cleared', alert: AlertView): void {
  (type === 'alert.raised' ? metrics.alertsRaised : metrics.alertsCleared).inc({ type: alert.type });
  events.publish({ type, cicIds: alert.cicId ? [alert.cicId] : [], data: alert });
}
