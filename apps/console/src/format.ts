import type { AlarmStage } from './types.js';

/** Elapsed time as an operator reads it on a clock: 0:07, 12:03, 1:02:03. */
export function formatAge(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

/** Seconds from an ISO 8601 time to `now` (ms). */
export function secondsSince(iso: string, now: number): number {
  return (now - Date.parse(iso)) / 1000;
}

/**
 * The service-level clock of an alarm: what it waits for (delivery to this CIC, then an operator's
 * accept) and the time left before it escalates, or how long it is overdue.
 */
export function slaClock(alarm: { deliveredAt: string | null; nextEscalationAt: string | null }, now: number): { text: string; overdue: boolean } | null {
  if (!alarm.nextEscalationAt) return null;
  const awaited = alarm.deliveredAt ? 'accept' : 'delivery';
  const left = -secondsSince(alarm.nextEscalationAt, now);
  return left >= 0 ? { text: `${awaited} in ${formatAge(left)}`, overdue: false } : { text: `${awaited} overdue ${formatAge(-left)}`, overdue: true };
}

/** A clock time for the timeline: 14:03:27. */
export function clockTime(iso: string): string {
  const d = new Date(iso);
  return [d.getHours(), d.getMinutes(), d.getSeconds()].map((n) => String(n).padStart(2, '0')).join(':');
}

/** The vibration the button plays at each stage (CONTRACT §3 ack). */
export const VIBRATION: Readonly<Record<AlarmStage, string>> = {
  received: 'short',
  accepted: 'double',
  dispatched: 'triple',
  closed: 'none',
};

export const STAGE_LABEL: Readonly<Record<AlarmStage, string>> = {
  received: 'New',
  accepted: 'Accepted',
  dispatched: 'Dispatched',
  closed: 'Closed',
};

/** Ordering of risk levels, highest first, for sorting the board. */
export const RISK_ORDER: Readonly<Record<string, number>> = { critical: 0, high: 1, medium: 2, low: 3 };

/** Technical alert types in words. */
export const ALERT_LABEL: Readonly<Record<string, string>> = {
  silent: 'Silent button',
  'low-battery': 'Low battery',
  'missed-self-test': 'Missed self-test',
  flooding: 'Flooding',
};

/** A position in words: 51.21940, 4.40250 ± 20 m (gnss). */
export function formatPosition(p: { lat: number; lon: number; acc: number | null; src: string | null }): string {
  const acc = p.acc == null ? '' : ` ± ${Math.round(p.acc)} m`;
  return `${p.lat.toFixed(5)}, ${p.lon.toFixed(5)}${acc}${p.src ? ` (${p.src})` : ''}`;
}
