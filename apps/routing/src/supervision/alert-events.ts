import type { PlatformEvent } from '@amr/runtime';
import type { AlertView } from '@amr/alarms';

/** A technical alert's change, for its case's CIC. */
export function alertEvent(type: 'alert.raised' | 'alert.cleared' | 'alert.acknowledged', alert: AlertView): PlatformEvent {
  return { type, cicIds: alert.cicId ? [alert.cicId] : [], data: alert };
}
