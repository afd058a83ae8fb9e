/**
 * What a failover run measured (the `failover` part of result.json) and the tables it is shown
 * in — the same tables on the terminal (output.ts textTable) and in report.html. Pure: the
 * scenario hands in what happened (presses, kills, reconnections), this turns it into figures.
 */
import { fmtMs } from './output.js';
import { summarize, type LatencySummary } from './stats.js';

/** One node kill: SIGKILL, then started again on the same ports. */
export interface KillRecord {
  node: string;
  /** ms into the load phase. */
  atMs: number;
  /** Devices connected to that node when it was killed. */
  devicesOn: number;
  /** Of those, connected again (to any node) by the end of the run. */
  reconnected: number;
  /** Kill → each of those devices connected again (CONNACK and SUBACK), ms. */
  reconnectMs: LatencySummary;
  /** Kill → the node answered /health 200 again, ms (null: it did not come back). */
  nodeBackMs: number | null;
  /** Connection attempts each of those devices made until it was connected again (p50, p99, max). */
  attempts?: { p50: number; p99: number; max: number };
  /** The attempt that succeeded, from opening its connection to the SUBACK, ms: the broker's share. */
  lastAttemptMs?: { p50: number; p99: number };
  error?: string;
}

export interface RedisPhase {
  atMs: number;
  /** Kill → redis-server answering PING again (it is restarted at once), ms. */
  downMs: number;
  /** Kill → every node answering /health 200 again, ms (null: not within the wait). */
  nodesHealthyMs: number | null;
  /** Presses sent from the kill until `windowMs` after Redis was back. */
  window: PressWindow;
  /** Connections the devices lost over that span. */
  disconnects: number;
  /** Nodes that exited on their own over that span. */
  nodeExits: number;
  error?: string;
}

/** Presses sent within one span of the run. */
export interface PressWindow {
  presses: number;
  received: number;
  lost: number;
  receivedMs: LatencySummary;
}

export interface FailoverSection {
  nodes: Array<{ id: string; api: string; mqtt: string }>;
  started: boolean;
  devices: number;
  rate: number;
  /** Presses. */
  sent: number;
  received: number;
  lost: number;
  rejected: number;
  /** Presses with two alarm ids in their acks, or whose device got an alarm at the CIC no press was acked with. */
  duplicated: number;
  /** Alarms announced at the CIC that no press was acked with (each makes a press duplicated). */
  extraAlarms: number;
  /** `alarm.received` events under new ids for an alarm already announced (the same alarm twice). */
  repeatedAnnouncements: number;
  /** Events replayed after a reconnection with Last-Event-ID (seen before, skipped). */
  replayedEvents: number;
  retransmissions: number;
  /** Received presses whose alarm the CIC saw on its event stream (or in its sweep). */
  seenAtCic: number;
  delivered: { confirmed: number; refused: number; firstError?: string };
  /** Accepts the operator made (2xx) and how many of those alarms' devices got `accepted`. */
  /** Of the accepts not seen, how many alarms' devices got `closed` (the final stage) instead. */
  accepted: { sent: number; seenByDevices: number; closedWithoutAccepted: number; unseen: { alarmId: string; deviceId?: string; connectedAtEnd?: boolean; acceptedAtMs: number }[] };
  closed: number;
  kills: KillRecord[];
  /** Every device reconnection after every kill. */
  reconnectMs: LatencySummary;
  /** Press → `received` of presses sent within `windowMs` after a kill, and of the others. */
  afterKill: PressWindow;
  steady: PressWindow;
  windowMs: number;
  redis?: RedisPhase;
  /** Nodes that exited without being killed by the run (they are started again). */
  unexpectedExits: Array<{ node: string; atMs: number; how: string }>;
  connections: { lost: number; reconnected: number };
  /** What else should hold (reported, not in the exit code): CIC visibility, accepts reaching devices … */
  checks: Array<{ name: string; actual: string; ok: boolean }>;
}

export interface WindowPress {
  sentAt: number;
  /** When `received` (or `rejected`) came; undefined: never. */
  answeredAt?: number;
  outcome: string;
  receivedMs?: number;
}

/**
 * A press is hit by an outage starting at `from` when it was sent within [from, to), or was sent
 * before and still waited for its answer at `from` (its latency includes the outage too).
 */
export function hitBy(p: WindowPress, [from, to]: readonly [number, number]): boolean {
  return (p.sentAt >= from && p.sentAt < to) || (p.sentAt < from && (p.answeredAt ?? Infinity) > from);
}

/** The figures of the presses hit by any of the spans. */
export function pressWindow(presses: readonly WindowPress[], spans: ReadonlyArray<readonly [number, number]>): PressWindow {
  return windowOf(presses.filter((p) => spans.some((span) => hitBy(p, span))));
}

/** The figures of the presses no span hit: steady state. */
export function pressesOutside(presses: readonly WindowPress[], spans: ReadonlyArray<readonly [number, number]>): PressWindow {
  return windowOf(presses.filter((p) => !spans.some((span) => hitBy(p, span))));
}

function windowOf(presses: readonly WindowPress[]): PressWindow {
  return {
    presses: presses.length,
    received: presses.filter((p) => p.outcome === 'received').length,
    lost: presses.filter((p) => p.outcome === 'lost').length,
    receivedMs: summarize(presses.flatMap((p) => (p.receivedMs === undefined ? [] : [p.receivedMs]))),
  };
}

/**
 * Reconnection after a kill: for each device that was on the killed node, kill → its first
 * connection after the kill (undefined: not back).
 */
export function reconnectTimes(killAt: number, devicesOn: readonly number[], connectsAfter: (device: number) => number | undefined): { times: number[]; missing: number } {
  const times: number[] = [];
  let missing = 0;
  for (const d of devicesOn) {
    const at = connectsAfter(d);
    if (at === undefined) missing += 1;
    else times.push(at - killAt);
  }
  return { times, missing };
}

export interface Table {
  title: string;
  head: string[];
  rows: string[][];
}

const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

export function failoverTables(f: FailoverSection): Table[] {
  const tables: Table[] = [];
  tables.push({
    title: 'Presses',
    head: ['', ''],
    rows: [
      ['nodes', f.nodes.map((n) => `${n.id} ${n.mqtt}`).join(', ') + (f.started ? '' : ' (given)')],
      ['devices, rate', `${f.devices} devices (half list node 1 first), ${f.rate} presses/s`],
      ['sent', String(f.sent)],
      ['acked received', String(f.received)],
      ['lost (no received in time)', String(f.lost)],
      ['rejected', String(f.rejected)],
      ['duplicated', `${f.duplicated} (alarms at the CIC no press was acked with: ${f.extraAlarms}; one alarm announced twice: ${f.repeatedAnnouncements})`],
      ['retransmissions', String(f.retransmissions)],
      ['received, seen at the CIC', `${f.seenAtCic} of ${f.received}`],
      ['delivery confirmed', `${f.delivered.confirmed} (refused or failed: ${f.delivered.refused}${f.delivered.firstError ? `, e.g. ${f.delivered.firstError}` : ''})`],
      ['accepted: sent / seen by devices', `${f.accepted.sent} / ${f.accepted.seenByDevices}${f.accepted.sent > f.accepted.seenByDevices ? ` (of the others, ${f.accepted.closedWithoutAccepted} got "closed")` : ''}`],
      ...f.accepted.unseen.slice(0, 5).map((u): [string, string] => [
        '  accept no device heard',
        `alarm ${u.alarmId}, accepted at ${(u.acceptedAtMs / 1000).toFixed(1)} s${u.deviceId ? `, device ${u.deviceId} (${u.connectedAtEnd ? 'connected' : 'not connected'} at the end)` : ''}`,
      ]),
      ['closed by the operator', String(f.closed)],
      ['connections lost / set up again', `${f.connections.lost} / ${f.connections.reconnected}`],
      ['events replayed after reconnecting', String(f.replayedEvents)],
    ],
  });
  tables.push({
    title: `Kills (SIGKILL, restarted at once): reconnection of the devices that were on the node`,
    head: ['node', 'at', 'devices on it', 'back', 'p50', 'p99', 'max', 'attempts p50/p99/max', 'last attempt p50/p99', 'node back'],
    rows: [
      ...f.kills.map((k) => [k.node, s(k.atMs), String(k.devicesOn), String(k.reconnected), fmtMs(k.reconnectMs.p50), fmtMs(k.reconnectMs.p99), fmtMs(k.reconnectMs.max), k.attempts ? `${k.attempts.p50}/${k.attempts.p99}/${k.attempts.max}` : '—', k.lastAttemptMs ? `${fmtMs(k.lastAttemptMs.p50)} / ${fmtMs(k.lastAttemptMs.p99)}` : '—', k.error ? `error: ${k.error}` : fmtMs(k.nodeBackMs)]),
      ...(f.kills.length ? [['all kills', '', String(f.kills.reduce((a, k) => a + k.devicesOn, 0)), String(f.kills.reduce((a, k) => a + k.reconnected, 0)), fmtMs(f.reconnectMs.p50), fmtMs(f.reconnectMs.p99), fmtMs(f.reconnectMs.max), '', '', '']] : []),
    ],
  });
  const latency = (name: string, w: PressWindow) => [name, String(w.presses), String(w.received), String(w.lost), fmtMs(w.receivedMs.p50), fmtMs(w.receivedMs.p99), fmtMs(w.receivedMs.max)];
  tables.push({
    title: 'Press → received on the device',
    head: ['presses sent', 'presses', 'received', 'lost', 'p50', 'p99', 'max'],
    rows: [
      latency(`in flight at a kill or within ${s(f.windowMs)} after`, f.afterKill),
      latency(f.redis ? 'steady state (no kill, no Redis outage)' : 'steady state (no kill)', f.steady),
      ...(f.redis ? [latency(`in flight at the Redis kill, or sent until ${s(f.windowMs)} after it was back`, f.redis.window)] : []),
    ],
  });
  if (f.redis) {
    const r = f.redis;
    tables.push({
      title: 'Redis killed (SIGKILL) and restarted',
      head: ['', ''],
      rows: [
        ['at', s(r.atMs)],
        ['Redis back (PING) after', fmtMs(r.downMs)],
        ['every node healthy again after', r.nodesHealthyMs === null ? 'not within the wait' : fmtMs(r.nodesHealthyMs)],
        ['device connections lost meanwhile', String(r.disconnects)],
        ['nodes that exited on their own', String(r.nodeExits)],
        ...(r.error ? [['error', r.error]] : []),
      ],
    });
  }
  if (f.unexpectedExits.length) {
    tables.push({ title: 'Nodes that exited without being killed (started again)', head: ['node', 'at', 'how'], rows: f.unexpectedExits.map((e) => [e.node, s(e.atMs), e.how]) });
  }
  return tables;
}
