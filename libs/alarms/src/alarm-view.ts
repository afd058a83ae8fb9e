import type { EntityManager } from 'typeorm';
import { Alarm, AlarmEvent, AlarmPosition, ProtectionCase } from '@amr/persistence';

export type AlarmStage = 'received' | 'accepted' | 'dispatched' | 'closed';
export const ALARM_STAGES: readonly AlarmStage[] = ['received', 'accepted', 'dispatched', 'closed'];

/** CONTRACT §4 Alarm resource. */
export interface AlarmView {
  id: string;
  deviceId: string;
  caseId: string | null;
  cicId: string;
  kind: 'panic' | 'test';
  stage: AlarmStage;
  pressCount: number;
  flags: string[];
  receivedAt: string;
  updatedAt: string;
  closedAt: string | null;
  outcome: string | null;
  case: CaseView | null;
  positions: PositionView[];
  timeline: TimelineEntry[];
}

export interface CaseView {
  id: string;
  homeCicId: string;
  reference: string | null;
  riskLevel: string | null;
  responderNotes: string | null;
  perpetrator: Record<string, unknown> | null;
}

export interface PositionView {
  lat: number;
  lon: number;
  acc: number | null;
  ts: number | null;
  src: string | null;
}

export type TimelineEntry = ({ stage: AlarmStage } | { event: string }) & { at: string; [key: string]: unknown };

export function caseView(c: ProtectionCase): CaseView {
  return {
    id: c.id,
    homeCicId: c.homeCicId,
    reference: c.reference ?? null,
    riskLevel: c.riskLevel ?? null,
    responderNotes: c.responderNotes ?? null,
    perpetrator: (c.perpetrator as Record<string, unknown> | null) ?? null,
  };
}

/** Reads one alarm with its case, positions (device-time order) and timeline (append order). */
export async function loadAlarmView(db: EntityManager, alarm: Alarm): Promise<AlarmView> {
  const [protectionCase, positions, events] = await Promise.all([
    alarm.caseId ? db.findOne(ProtectionCase, { where: { id: alarm.caseId } }) : Promise.resolve(null),
    db.find(AlarmPosition, { where: { alarmId: alarm.id }, order: { ts: 'ASC', id: 'ASC' } }),
    db.find(AlarmEvent, { where: { alarmId: alarm.id }, order: { id: 'ASC' } }),
  ]);
  return {
    id: alarm.id,
    deviceId: alarm.deviceId,
    caseId: alarm.caseId ?? null,
    cicId: alarm.cicId,
    kind: alarm.kind as AlarmView['kind'],
    stage: alarm.stage as AlarmStage,
    pressCount: alarm.pressCount,
    flags: alarm.flags ?? [],
    receivedAt: alarm.receivedAt.toISOString(),
    updatedAt: alarm.updatedAt.toISOString(),
    closedAt: alarm.closedAt ? alarm.closedAt.toISOString() : null,
    outcome: alarm.outcome ?? null,
    case: protectionCase ? caseView(protectionCase) : null,
    positions: positions.map((p) => ({ lat: p.lat, lon: p.lon, acc: p.acc ?? null, ts: p.ts ?? null, src: p.src ?? null })),
    timeline: events.map(timelineEntry),
  };
}

function timelineEntry(e: AlarmEvent): TimelineEntry {
  const head = (ALARM_STAGES as readonly string[]).includes(e.type)
    ? { stage: e.type as AlarmStage }
    : { event: e.type };
  return { ...head, at: e.at.toISOString(), ...(e.data as Record<string, unknown>) };
}
