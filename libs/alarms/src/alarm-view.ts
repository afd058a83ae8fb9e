import type { EntityManager } from 'typeorm';
import { Alarm, AlarmEvent, AlarmPosition, ProtectionCase, type SqlStatement } from '@amr/persistence';
import { isAlarmStage, type AlarmKind, type AlarmStage } from '@amr/protocol';

/** CONTRACT §4 Alarm resource. */
export interface AlarmView {
  id: string;
  deviceId: string;
  caseId: string | null;
  cicId: string;
  /** The case's home CIC when the alarm is handled elsewhere (it has an informational copy). */
  homeCicId: string | null;
  kind: AlarmKind;
  stage: AlarmStage;
  pressCount: number;
  /** Presses repeated by the device (same seq): counted; only the first few are in the timeline. */
  retransmissions: number;
  flags: string[];
  receivedAt: string;
  updatedAt: string;
  deliveredAt: string | null;
  acceptedAt: string | null;
  dispatchedAt: string | null;
  closedAt: string | null;
  outcome: string | null;
  escalationLevel: number;
  /**
   * The service-level deadline of the stage the alarm waits for: delivery to its CIC within
   * AMR_DELIVERY_TIMEOUT_S, then an operator's accept within AMR_ACCEPT_TIMEOUT_S. When it passes
   * unmet, the alarm escalates (docs/lifecycle.md). Null once accepted, and when closed.
   */
  nextEscalationAt: string | null;
  /** Seconds from the press reaching the platform to each stage (null: not reached yet). */
  serviceLevels: ServiceLevels;
  case: CaseView | null;
  /** The newest VIEW_POSITIONS positions, oldest first; `positionCount` is how many are stored. */
  positions: PositionView[];
  positionCount: number;
  timeline: TimelineEntry[];
  /** When its positions, press payloads and outcome were erased (retention, or its case erased); null: not erased. */
  personalDataErasedAt: string | null;
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
  closedAt: string | null;
  /** When its personal data was erased; the case keeps only its id, home CIC, risk level and settings. */
  erasedAt: string | null;
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
    closedAt: iso(c.closedAt),
    erasedAt: iso(c.erasedAt),
  };
}

/** The newest positions an alarm view carries; `positionCount` tells how many are stored. */
export const VIEW_POSITIONS = 50;

/**
 * Reads alarms with everything their views show, in one statement for any number of them: the
 * alarm, its case, its newest positions (device-time order), how many positions it has, its
 * timeline (append order) and its first press's device time.
 */
const VIEWS = `
  SELECT to_jsonb(a) AS alarm_row, to_jsonb(c) AS case_row,
         (SELECT coalesce(jsonb_agg(jsonb_build_object('lat', p.lat, 'lon', p.lon, 'acc', p.acc, 'ts', p.ts, 'src', p.src)
                                    ORDER BY p.ts ASC NULLS LAST, p.id ASC), '[]'::jsonb)
            FROM (SELECT * FROM alarm_positions WHERE alarm_id = a.id ORDER BY ts DESC, id DESC LIMIT ${VIEW_POSITIONS}) p) AS positions,
         (SELECT count(*)::int FROM alarm_positions WHERE alarm_id = a.id) AS position_count,
         (SELECT coalesce(jsonb_agg(jsonb_build_object('type', e.type, 'at', e.at, 'data', e.data, 'personal', e.personal, 'erased_at', e.erased_at) ORDER BY e.id), '[]'::jsonb)
            FROM alarm_events e WHERE e.alarm_id = a.id) AS events,
         (SELECT p.device_ts FROM alarm_presses p WHERE p.alarm_id = a.id ORDER BY p.id LIMIT 1) AS first_press_ts
    FROM alarms a LEFT JOIN cases c ON c.id = a.case_id
   WHERE a.id = ANY($1::uuid[])`;

interface ViewRow {
  alarm_row: Record<string, unknown>;
  case_row: Record<string, unknown> | null;
  positions: PositionView[];
  position_count: number;
  events: { type: string; at: string; data: Record<string, unknown>; personal: TimelineParts['personal']; erased_at: string | null }[];
  first_press_ts: string | number | null;
}

/** What an alarm's view is built from (buildAlarmView). */
export interface ViewParts {
  protectionCase: ProtectionCase | null;
  positions: readonly Pick<AlarmPosition, 'lat' | 'lon' | 'acc' | 'ts' | 'src'>[];
  positionCount: number;
  events: readonly TimelineParts[];
  firstPressTs: number | null;
}

/** The statement reading the given alarms with their view parts, for a transaction's `Sql.together` (rows: `viewPartsOf`). */
export function alarmViewParts(name: string, ids: readonly string[]): SqlStatement {
  return { name, text: VIEWS, values: [[...new Set(ids)]] };
}

/** A row of `alarmViewParts`: the alarm, and what its view shows besides. */
export function viewPartsOf(row: Record<string, unknown>): { alarm: Alarm; parts: ViewParts } {
  const r = row as unknown as ViewRow;
  return {
    alarm: alarmFromRow(r.alarm_row),
    parts: {
      protectionCase: r.case_row ? caseFromRow(r.case_row) : null,
      positions: r.positions,
      positionCount: r.position_count,
      events: r.events.map((e) => ({ type: e.type, at: new Date(e.at), data: e.data, personal: e.personal, erasedAt: e.erased_at ? new Date(e.erased_at) : null })),
      firstPressTs: r.first_press_ts == null ? null : Number(r.first_press_ts),
    },
  };
}

/**
 * View parts read earlier in a transaction, with the timeline entries and positions the same
 * transaction wrote after the read: what a read after the commit would give. Positions are kept
 * in the statement's order (device time, oldest first, those without a time last, then in the
 * order stored), the newest VIEW_POSITIONS of them.
 */
export function withAppended(parts: ViewParts, added: { events: readonly TimelineParts[]; positions: readonly PositionView[] }): ViewParts {
  if (added.events.length === 0 && added.positions.length === 0) return parts;
  const byTime = (a: { ts: number | null }, b: { ts: number | null }) => (a.ts == null ? (b.ts == null ? 0 : 1) : b.ts == null ? -1 : a.ts - b.ts);
  // a stable sort: positions of the same time stay in the order stored, as the statement's id order
  const positions = [...parts.positions.map((p) => ({ ...p, ts: p.ts ?? null })), ...added.positions].sort(byTime).slice(-VIEW_POSITIONS);
  return { ...parts, positions, positionCount: parts.positionCount + added.positions.length, events: [...parts.events, ...added.events] };
}

/** The views of the given alarms as stored now, in the order asked (an id not found is left out). */
export async function loadAlarmViews(db: EntityManager, ids: readonly string[]): Promise<AlarmView[]> {
  if (ids.length === 0) return [];
  const { text, values } = alarmViewParts('alarm-views', ids);
  const rows = (await db.query(text, values)) as Record<string, unknown>[];
  const byId = new Map(
    rows.map((row) => {
      const { alarm, parts } = viewPartsOf(row);
      return [alarm.id, buildAlarmView(alarm, parts)] as const;
    }),
  );
  return ids.flatMap((id) => (byId.has(id) ? [byId.get(id)!] : []));
}

/** One alarm's view, as stored now. */
export async function loadAlarmView(db: EntityManager, alarm: Pick<Alarm, 'id'>): Promise<AlarmView> {
  const [view] = await loadAlarmViews(db, [alarm.id]);
  if (!view) throw new Error(`alarm ${alarm.id} is gone`);
  return view;
}

/** A timestamp of a row read as JSON (`to_jsonb`), or null. */
function at(v: unknown): Date | null {
  return v == null ? null : new Date(String(v));
}

/** An alarm row as PostgreSQL names it (snake_case, e.g. from `to_jsonb`), as the entity. */
export function alarmFromRow(row: Record<string, unknown>): Alarm {
  return Object.assign(new Alarm(), {
    id: row.id,
    deviceId: row.device_id,
    caseId: row.case_id ?? null,
    cicId: row.cic_id,
    kind: row.kind,
    stage: row.stage,
    pressCount: row.press_count,
    retransmissions: row.retransmissions ?? 0,
    firstSeq: Number(row.first_seq),
    lastSeq: Number(row.last_seq),
    flags: row.flags ?? [],
    receivedAt: at(row.received_at),
    updatedAt: at(row.updated_at),
    closedAt: at(row.closed_at),
    outcome: row.outcome ?? null,
    homeCicId: row.home_cic_id ?? null,
    deliveredAt: at(row.delivered_at),
    acceptedAt: at(row.accepted_at),
    dispatchedAt: at(row.dispatched_at),
    escalationLevel: row.escalation_level ?? 0,
    nextEscalationAt: at(row.next_escalation_at),
    personalDataErasedAt: at(row.personal_data_erased_at),
  });
}

/** A case row as PostgreSQL names it (snake_case, e.g. from `to_jsonb`), as the entity. */
export function caseFromRow(row: Record<string, unknown>): ProtectionCase {
  return Object.assign(new ProtectionCase(), {
    id: row.id,
    homeCicId: row.home_cic_id,
    reference: row.reference ?? null,
    riskLevel: row.risk_level ?? null,
    responderNotes: row.responder_notes ?? null,
    perpetrator: row.perpetrator ?? null,
    protectionOrders: row.protection_orders ?? null,
    victim: row.victim ?? null,
    heartbeatS: row.heartbeat_s ?? null,
    graceS: row.grace_s ?? null,
    createdAt: at(row.created_at),
    closedAt: at(row.closed_at),
    erasedAt: at(row.erased_at),
  });
}

/** An alarm view from what is already at hand (the press pipeline builds a new alarm's without reading it back). */
export function buildAlarmView(alarm: Alarm, parts: ViewParts): AlarmView {
  const since = (d: Date | null | undefined) => (d ? (d.getTime() - alarm.receivedAt.getTime()) / 1000 : null);
  return {
    id: alarm.id,
    deviceId: alarm.deviceId,
    caseId: alarm.caseId ?? null,
    cicId: alarm.cicId,
    homeCicId: alarm.homeCicId ?? null,
    kind: alarm.kind,
    stage: alarm.stage,
    pressCount: alarm.pressCount,
    retransmissions: alarm.retransmissions ?? 0,
    flags: alarm.flags ?? [],
    receivedAt: alarm.receivedAt.toISOString(),
    updatedAt: alarm.updatedAt.toISOString(),
    deliveredAt: iso(alarm.deliveredAt),
    acceptedAt: iso(alarm.acceptedAt),
    dispatchedAt: iso(alarm.dispatchedAt),
    closedAt: iso(alarm.closedAt),
    outcome: alarm.outcome ?? null,
    escalationLevel: alarm.escalationLevel ?? 0,
    nextEscalationAt: alarm.stage === 'closed' ? null : iso(alarm.nextEscalationAt),
    serviceLevels: {
      pressToReceivedS: parts.firstPressTs != null ? Math.round(alarm.receivedAt.getTime() / 1000 - parts.firstPressTs) : null,
      deliveredS: since(alarm.deliveredAt),
      acceptedS: since(alarm.acceptedAt),
      dispatchedS: since(alarm.dispatchedAt),
      closedS: since(alarm.closedAt),
    },
    case: parts.protectionCase ? caseView(parts.protectionCase) : null,
    positions: parts.positions.map((p) => ({ lat: p.lat, lon: p.lon, acc: p.acc ?? null, ts: p.ts ?? null, src: p.src ?? null })),
    positionCount: parts.positionCount,
    timeline: parts.events.map(timelineEntry),
    personalDataErasedAt: iso(alarm.personalDataErasedAt),
  };
}

/** A timeline entry as stored: its personal part (null once erased) apart from the rest. */
export type TimelineParts = Pick<AlarmEvent, 'type' | 'at' | 'data'> & Partial<Pick<AlarmEvent, 'personal' | 'erasedAt'>>;

/** The entry as CICs read it: its data with its personal part, or `personalDataErased` once that is gone. */
function timelineEntry(e: TimelineParts): TimelineEntry {
  const head = isAlarmStage(e.type) ? { stage: e.type } : { event: e.type };
  return {
    ...head,
    at: e.at.toISOString(),
    ...(e.data as Record<string, unknown>),
    ...(e.personal?.data ?? {}),
    ...(e.erasedAt ? { personalDataErased: true } : {}),
  };
}

/** A stored timestamp as the API shows it: ISO 8601, or null. */
export function iso(d: Date | string | null | undefined): string | null {
  return d ? new Date(d).toISOString() : null;
}
