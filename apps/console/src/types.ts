/**
 * The shapes of the platform's HTTP API as the console reads them (see /api/docs-json): the
 * fields it shows, not every field there is. They are not imported from the platform's own view
 * types (libs/alarms/src/alarm-view.ts): the console is a separate browser program
 * (apps/console/tsconfig.json: DOM library, no Node types, everything under src/), and that
 * module brings TypeORM and the persistence entities with it, even into a type-only import.
 */

export type AlarmStage = 'received' | 'accepted' | 'dispatched' | 'closed';

export interface Position {
  lat: number;
  lon: number;
  acc: number | null;
  ts: number | null;
  src: string | null;
}

export interface CaseContext {
  id: string;
  homeCicId: string;
  reference: string | null;
  riskLevel: string | null;
  responderNotes: string | null;
  perpetrator: { name?: string; description?: string; vehicle?: string; weaponsKnown?: boolean } | null;
  protectionOrders: { type?: string; places?: string[]; perimeterM?: number; until?: string }[];
  victim: { name?: string; phone?: string; languages?: string[] } | null;
}

export type TimelineEntry = { stage?: AlarmStage; event?: string; at: string } & Record<string, unknown>;

export interface Alarm {
  id: string;
  deviceId: string;
  caseId: string | null;
  cicId: string;
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
  /** The deadline of the stage the alarm waits for (delivery, then accept); null once accepted. */
  nextEscalationAt: string | null;
  case: CaseContext | null;
  positions: Position[];
  positionCount: number;
  timeline: TimelineEntry[];
}

/** `alarm.position` events carry one position, not the whole alarm. */
export interface PositionEvent extends Position {
  alarmId: string;
  deviceId: string;
  seq: number;
}

export interface Alert {
  id: string;
  deviceId: string;
  type: string;
  caseId: string | null;
  cicId: string | null;
  raisedAt: string;
  clearedAt: string | null;
  acknowledgedAt: string | null;
  acknowledgedBy: string | null;
  details: Record<string, unknown>;
}

export interface Evidence {
  verification: { valid: boolean; entries: number; algorithm: string; firstInvalid?: { id: number; reason: string } };
}

export type Caller =
  | { kind: 'admin' }
  | { kind: 'integration'; integrationId: string; name: string; cicId: string; cicName: string };

export interface CicSummary {
  id: string;
  name: string;
  backupCicId: string | null;
  hasArea: boolean;
}

export interface CicDetail extends CicSummary {
  area: Geometry | null;
  areaSource: string | null;
}

/** GeoJSON Polygon or MultiPolygon, [longitude, latitude] (RFC 7946). */
export type Geometry =
  | { type: 'Polygon'; coordinates: number[][][] }
  | { type: 'MultiPolygon'; coordinates: number[][][][] };

export interface DeviceHealth {
  id: string;
  caseId: string | null;
  active: boolean;
  connected: boolean;
  lastSeenAt: string | null;
  battery: number | null;
  rsrp: number | null;
  fw: string | null;
  supervised: boolean;
  grantExpiresAt: string | null;
  openAlerts: string[];
}

export interface IntegrationSummary {
  id: string;
  cicId: string;
  name: string;
  createdAt: string;
  revokedAt: string | null;
  webhookUrl?: string | null;
}
