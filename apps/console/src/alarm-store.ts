import { RISK_ORDER } from './format.js';
import type { Alarm, PositionEvent } from './types.js';

/** What applying a change did, so the views know what to redraw and whom to alert. */
export interface StoreChange {
  alarm: Alarm | null;
  /** The alarm was not on the board before and is open now. */
  appeared: boolean;
}

/**
 * The alarms this console knows of, kept current from the API's list and the event stream. A
 * view older than the one held (by `updatedAt`) is ignored, so the order in which the list and
 * the stream answer does not matter.
 */
export class AlarmStore {
  private readonly alarms = new Map<string, Alarm>();

  get(id: string): Alarm | undefined {
    return this.alarms.get(id);
  }

  /** A whole alarm view (the list, or an `alarm.*` event). */
  upsert(view: Alarm): StoreChange {
    const held = this.alarms.get(view.id);
    if (held && held.updatedAt > view.updatedAt) return { alarm: null, appeared: false };
    this.alarms.set(view.id, view);
    return { alarm: view, appeared: (!held || held.stage === 'closed') && view.stage !== 'closed' };
  }

  /** An `alarm.position` event: one more position on the trail. */
  addPosition(event: PositionEvent): StoreChange {
    const held = this.alarms.get(event.alarmId);
    if (!held) return { alarm: null, appeared: false };
    const { lat, lon, acc, ts, src } = event;
    if (held.positions.some((p) => p.ts === ts && p.lat === lat && p.lon === lon)) return { alarm: null, appeared: false };
    const positions = [...held.positions, { lat, lon, acc, ts, src }].sort((a, b) => (a.ts ?? 0) - (b.ts ?? 0));
    const alarm = { ...held, positions, positionCount: held.positionCount + 1 };
    this.alarms.set(alarm.id, alarm);
    return { alarm, appeared: false };
  }

  /** The board: open alarms, new ones first, then by risk, then oldest first. */
  open(): Alarm[] {
    const stageRank = (a: Alarm) => (a.stage === 'received' ? 0 : 1);
    const risk = (a: Alarm) => RISK_ORDER[a.case?.riskLevel ?? ''] ?? 4;
    return [...this.alarms.values()]
      .filter((a) => a.stage !== 'closed')
      .sort((a, b) => stageRank(a) - stageRank(b) || risk(a) - risk(b) || a.receivedAt.localeCompare(b.receivedAt));
  }
}

/** An alarm another CIC handles, of which the case's home CIC gets a copy for information. */
export function isInformationalCopy(alarm: Alarm, ownCicId: string | null): boolean {
  return ownCicId !== null && alarm.cicId !== ownCicId;
}
