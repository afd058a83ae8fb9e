import type { EntityManager } from 'typeorm';
import { Alarm, AlarmEvent, AlarmPosition, AlarmPress, ProtectionCase } from '@amr/persistence';

export type AlarmStage = 'received' | 'accepted' | 'dispatched' | 'closed';
export const ALARM_STAGES: readonly AlarmStage[] = ['received', 'accepted', 'dispatched', 'closed'];

/** CONTRACT §4 Alarm resource. */
export interface AlarmView {
  id: string;
  deviceId: string;
  caseId: string | null;
  cicId: string;
  /** The case's home CIC when the alarm is handled elsewhere (it has an informational copy). */
  homeCicId: string | null;
  kind: 'panic' | 'test';
  stage: AlarmStage;
  pressCount: number;
  flags: string[];
  receivedAt: string;
  updatedAt: string;
  deliveredAt: string | null;
  acceptedAt: string | null;
  dispatchedAt: string | null;
  closedAt: string | null;
  outcome: string | null;
  escalationLevel: number;
  /** Seconds from the press reaching the platform to each stage (null: not reached yet). */
  serviceLevels: ServiceLevels;
  case: CaseView | null;
  positions: PositionView[];
  timeline: TimelineEntry[];
}

export interface ServiceLevels {
  /** From the device's press time (its clock) to the platform's receipt, when the press carried one. */
  pressToReceivedS: number | null;
  deliveredS: number | null;
  acceptedS: number | null;
  dispatchedS: number | null;
  closedS: number | null;
}

/** CONTRACT §4 case, with the responder context police need on arrival. */
export interface CaseView {
  id: string;
  homeCicId: string;
  reference: string | null;
  riskLevel: string | null;
  responderNotes: string | null;
  perpetrator: Record<string, unknown> | null;
  protectionOrders: Record<string, unknown>[];
  victim: Record<string, unknown> | null;
  /** Supervision settings for the buttons granted to the case (null: each device's own). */
  heartbeatS: number | null;
  graceS: number | null;
}

/** The CICs that see an alarm: the one handling it, and the case's home CIC when different. */
export function alarmAudience(alarm: Pick<Alarm, 'cicId' | 'homeCicId'>): string[] {
  return alarm.homeCicId && alarm.homeCicId !== alarm.cicId ? [alarm.cicId, alarm.homeCicId] : [alarm.cicId];
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
    protectionOrders: (c.protectionOrders as Record<string, unknown>[] | null) ?? [],
    victim: (c.victim as Record<string, unknown> | null) ?? null,
    heartbeatS: c.heartbeatS ?? null,
    graceS: c.graceS ?? null,
  };
}

/** Reads one alarm with its case, positions (device-time order) and timeline (append order). */
export async function loadAlarmView(db: EntityManager, alarm: Alarm): Promise<AlarmView> {
  const [protectionCase, positions, events, firstPress] = await Promise.all([
    alarm.caseId ? db.findOne(ProtectionCase, { where: { id: alarm.caseId } }) : Promise.resolve(null),
    db.find(AlarmPosition, { where: { alarmId: alarm.id }, order: { ts: 'ASC', id: 'ASC' } }),
    db.find(AlarmEvent, { where: { alarmId: alarm.id }, order: { id: 'ASC' } }),
    db.findOne(AlarmPress, { where: { alarmId: alarm.id }, order: { id: 'ASC' }, select: { id: true, deviceTs: true } }),
  ]);
  const since = (d: Date | null | undefined) => (d ? (d.getTime() - alarm.receivedAt.getTime()) / 1000 : null);
  return {
    id: alarm.id,
    deviceId: alarm.deviceId,
    caseId: alarm.caseId ?? null,
    cicId: alarm.cicId,
    homeCicId: alarm.homeCicId ?? null,
    kind: alarm.kind as AlarmView['kind'],
    stage: alarm.stage as AlarmStage,
    pressCount: alarm.pressCount,
    flags: alarm.flags ?? [],
    receivedAt: alarm.receivedAt.toISOString(),
    updatedAt: alarm.updatedAt.toISOString(),
    deliveredAt: iso(alarm.deliveredAt),
    acceptedAt: iso(alarm.acceptedAt),
    dispatchedAt: iso(alarm.dispatchedAt),
    closedAt: iso(alarm.closedAt),
    outcome: alarm.outcome ?? null,
    escalationLevel: alarm.escalationLevel ?? 0,
    serviceLevels: {
      pressToReceivedS: firstPress?.deviceTs != null ? Math.round(alarm.receivedAt.getTime() / 1000 - firstPress.deviceTs) : null,
      deliveredS: since(alarm.deliveredAt),
      acceptedS: since(alarm.acceptedAt),
      dispatchedS: since(alarm.dispatchedAt),
      closedS: since(alarm.closedAt),
    },
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

/** A stored timestamp as the API shows it: ISO 8601, or null. */
export function iso(d: Date | string | null | undefined): string | null {
  return d ? new Date(d).toISOString() : null;
}
