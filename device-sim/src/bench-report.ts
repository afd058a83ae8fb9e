/**
 * What a bench run measured (the `bench` part of result.json) and the tables it is shown in —
 * the same tables on the terminal (output.ts textTable) and in report.html. Pure.
 */
import type { TargetRow } from './bench-targets.js';
import type { CleanupFigure } from './cic-cleanup.js';
import type { FloodStats } from './flood.js';
import type { PressStep } from './press-steps.js';
import { fmtMs } from './output.js';
import type { LatencySummary } from './stats.js';

/** One phase of the load: quiet, flood, or the whole load phase of a run with a storm in it. */
export interface BenchPhase {
  name: string;
  seconds: number;
  askedRate: number;
  /** Presses per second the generator actually sent. */
  achievedRate: number;
  /** How late presses went out against their schedule (the generator's own lag), ms. */
  lagMs: LatencySummary;
  /** Presses that went out late because every device still waited for an answer. */
  heldBack: number;
  presses: number;
  received: number;
  lost: number;
  rejected: number;
  /** The `rejected` acks' reasons, most frequent first. */
  rejectReasons: Array<{ reason: string; presses: number }>;
  duplicated: number;
  aborted: number;
  retransmissions: number;
  /** `received` presses per second: received ÷ (last `received` − first press). */
  durablePerS: number;
  receivedMs: LatencySummary;
  cicMs: LatencySummary;
  /** CPU used over the phase, % of one core: the simulator's (this process) and the platform's. */
  /** Each process's share of one core; the machine's (every process on it) of all its cores. */
  cpu: { simulatorPct: number; platformPct?: number; machinePct?: number; cores?: number };
}

/** How the devices of a storm or a kill got back: attempts each, and the successful attempt alone (transport → SUBACK). */
export interface ReconnectAttempts {
  attempts: LatencySummary;
  lastAttemptMs: LatencySummary;
}

export interface StormSection {
  devices: number;
  /** Seconds into the load phase when every connection was dropped. */
  atS: number;
  reconnected: number;
  /** Per device: its drop → connected again (CONNACK and SUBACK), ms. */
  perDeviceMs: LatencySummary;
  /** Per device back: attempts, and the successful one alone; absent from older results. */
  attempts?: LatencySummary;
  lastAttemptMs?: LatencySummary;
  /** First drop → the last device connected again, ms (null: not all came back within the wait). */
  allConnectedMs: number | null;
  /** Presses sent from the drop until every device was back (or the wait ended). */
  during: { presses: number; received: number; lost: number; receivedMs: LatencySummary };
  /** This machine's TCP counters from the drop until every device was back; absent from older results. */
  listen?: ListenFigures;
}

/** Connections the kernel dropped before the platform saw them: SYNs at a full accept queue, and SYNs sent again. */
export interface ListenFigures {
  overflows: number;
  synRetransmits: number;
}

/**
 * The platform killed with SIGKILL during the load and started again on the same database
 * (--restart-at), while the devices kept pressing.
 */
export interface KillSection {
  /** Seconds into the load phase when the platform was killed. */
  atS: number;
  /** Kill → the platform listening again, ms (null: it did not come back). */
  downMs: number | null;
  /** Why it did not come back. */
  error?: string;
  /** Devices connected at the kill (every one of them loses its connection). */
  devices: number;
  reconnected: number;
  /** Per device: the kill → connected again (CONNACK and SUBACK), ms. */
  perDeviceMs: LatencySummary;
  /** Per device back: attempts, and the successful one alone; absent from older results. */
  attempts?: LatencySummary;
  lastAttemptMs?: LatencySummary;
  /** The kill → the last device connected again, ms (null: not all came back within the wait). */
  allConnectedMs: number | null;
  /** Presses sent from the kill until every device was back (or the wait ended). */
  during: { presses: number; received: number; rejected: number; lost: number; receivedMs: LatencySummary };
  /** The whole load phase around the kill: what the kill -9 target counts. */
  run: { presses: number; lost: number; duplicated: number };
  /**
   * The restarted platform's own timing from its start to the end of the load (its counters start
   * at zero): where the reconnecting devices' connections waited, and its press path; absent from
   * older results, or when it could not be scraped.
   */
  sinceRestart?: {
    connectSteps: PressStep[];
    pressSteps: PressStep[];
    joined?: number;
    /** The presses it stored or answered again from the database, by outcome (amr_alarm_presses_total). */
    presses?: { new: number; joined: number; retransmission: number };
  };
  /**
   * This machine's TCP counters from the kill until the devices were waited for: SYNs dropped at a
   * full accept queue (ListenOverflows) and SYNs sent again (TCPSynRetrans); absent from older
   * results, or where /proc/net/netstat cannot be read.
   */
  listen?: ListenFigures;
}

export interface MemoryFigure {
  connected: number;
  rssBeforeKiB: number;
  /** Once the count is connected (the connect burst's garbage still in the heap). */
  rssConnectedKiB: number;
  kibPerDeviceConnected: number;
  /** After the devices have been idle for the section's `idleS`: the figure the target is judged on. */
  rssAfterKiB: number;
  kibPerDevice: number;
  heapBeforeKiB?: number;
  heapAfterKiB?: number;
  heapKibPerDevice?: number;
  /** Connecting the step's devices took, ms. */
  connectMs: number;
  failed: number;
}

export interface IdleStep {
  devices: number;
  platform?: MemoryFigure;
  /** Why the platform was not measured at this count. */
  platformSkipped?: string;
  baseline?: MemoryFigure;
  baselineSkipped?: string;
}

export interface IdleSection {
  keepaliveS: number;
  /** How long the devices were idle before the second reading, s. */
  idleS: number;
  /** `ulimit -n` of the simulator, the platform and the plain broker. */
  openFiles: { simulator?: { soft: number; hard: number }; platform?: { soft: number; hard: number }; baseline?: { soft: number; hard: number } };
  baselinePid?: number;
  /** Clients the plain broker reported connected before the run ($SYS), when it says. */
  baselineClientsBefore?: number;
  steps: IdleStep[];
}

export interface FloodSection extends FloodStats {
  deviceId: string;
}

export interface BenchSection {
  devices: number;
  addresses: number;
  provisioning: { provisioned: number; reused: number; ms: number; cases: number; devicesPerCase: number; batch: boolean | null };
  /** The press bench's devices connecting (mqtt.js clients); absent for --idle. */
  connect?: { ms: number; perSecond: number; failed: number };
  /** The measuring devices' connections during the load: lost (either side), set up again, undecodable acks. */
  connections?: { lost: number; reconnected: number; invalidMessages: number };
  heartbeatS?: number;
  phases: BenchPhase[];
  server?: {
    pressToReceivedMs: { p50?: number; p90?: number; p99?: number; count: number };
    /** The announcer's wait for a folded `alarm.pressed` event (the rest of an alarm's second; amr_alarm_announce_seconds); absent from older results. */
    announceMs?: { p50?: number; p90?: number; p99?: number; count: number };
    /** Events' wait in the log before the platform's streams had them (amr_event_log_delay_seconds); absent from older results. */
    eventLogMs?: { p50?: number; p90?: number; p99?: number; count: number };
    /** Where the platform's press path spent the run (amr_press_step_seconds); absent from older results. */
    steps?: PressStep[];
    /** Presses sent again while their first copy was still on the device's lane (amr_device_messages_joined_total). */
    joined?: number;
  };
  rssMiB: { platformIdle?: number; platformPeak?: number; simulator: number };
  baseline?: { url: string; echoMs: LatencySummary; withoutNoDelayMs?: LatencySummary; ratioP50: number | null; ratioP99: number | null; noDelay: boolean };
  flood?: FloodSection;
  storm?: StormSection;
  kill?: KillSection;
  idle?: IdleSection;
  /** The simulated CIC's delivery confirmations, by one integration per CIC (absent for --idle). */
  cic?: { integrations: number; delivered: number; refused: number; firstError?: string };
  /** Alarms the bench closed: left open by earlier runs (before the load), and its own (after it, without an operator). */
  cleanup?: { before?: CleanupFigure; after?: CleanupFigure };
  /** The PostgreSQL server's settings that change the figures, and the upkeep the bench did (database-upkeep.ts). */
  database?: string;
  targets: TargetRow[];
}

export interface BenchTable {
  title: string;
  head: string[];
  rows: string[][];
}

const n0 = (v: number): string => Math.round(v).toLocaleString('en-US');
const mibOfKib = (v: number | undefined): string => (v === undefined ? '—' : `${(v / 1024).toFixed(1)} MiB`);

/** Every table of a bench section, in reading order. */
export function benchTables(b: BenchSection): BenchTable[] {
  const tables: BenchTable[] = [];
  const p = b.provisioning;
  tables.push({
    title: 'Run',
    head: ['', ''],
    rows: [
      ['connected devices', `${n0(b.devices)} over ${b.addresses} loopback source address(es)`],
      [
        'provisioning',
        p.provisioned
          ? `${n0(p.provisioned)} new in ${fmtMs(p.ms)} (${n0((p.provisioned / Math.max(p.ms, 1)) * 1000)}/s; ${p.batch === false ? 'one request per device: no batch endpoint' : 'batch endpoint'}; ${n0(p.cases)} cases, ${p.devicesPerCase} devices per case), ${n0(p.reused)} reused`
          : `none: ${n0(p.reused)} reused from the state directory`,
      ],
      ...(b.connect ? [['connect', `${fmtMs(b.connect.ms)} (${n0(b.connect.perSecond)}/s), ${b.connect.failed} failed`]] : []),
      ...(b.connections
        ? [['during the load', `${n0(b.connections.lost)} connections lost, ${n0(b.connections.reconnected)} set up again, ${n0(b.connections.invalidMessages)} undecodable acks`]]
        : []),
      ...(b.heartbeatS !== undefined ? [['heartbeat', `every ${b.heartbeatS} s per device`]] : []),
      ...(b.server?.joined !== undefined ? [[JOINED, n0(b.server.joined)]] : []),
      ...(b.rssMiB.platformIdle !== undefined || b.rssMiB.platformPeak !== undefined
        ? [['platform RSS', `${b.rssMiB.platformIdle ?? '—'} MiB connected and idle, ${b.rssMiB.platformPeak ?? '—'} MiB peak under load`]]
        : []),
      ['simulator RSS', `${b.rssMiB.simulator} MiB`],
      ...(b.cic
        ? [['delivery confirmed by the CIC', `${n0(b.cic.delivered)} alarms, by ${b.cic.integrations} integrations (one per CIC); ${n0(b.cic.refused)} refused or failed${b.cic.firstError ? `, e.g. ${b.cic.firstError}` : ''}`]]
        : []),
      ...(b.cleanup?.before ? [['closed before the load', cleanupText(b.cleanup.before, 'left open by earlier runs')]] : []),
      ...(b.cleanup?.after ? [['closed after the measurement', cleanupText(b.cleanup.after, 'of this run')]] : []),
      ...(b.database ? [['PostgreSQL', b.database]] : []),
    ],
  });
  if (b.phases.length) {
    tables.push({
      title: 'Load',
      head: ['phase', 's', 'asked/s', 'sent/s', 'lag p99', 'held back', 'received/s', 'presses', 'lost', 'dup', 'rejected', 'retransmitted', 'CPU sim', 'CPU platform', 'CPU machine'],
      rows: b.phases.map((ph) => [
        ph.name, String(ph.seconds), n0(ph.askedRate), ph.achievedRate.toFixed(1), fmtMs(ph.lagMs.p99), n0(ph.heldBack), ph.durablePerS.toFixed(1),
        n0(ph.presses), String(ph.lost), String(ph.duplicated), String(ph.rejected), String(ph.retransmissions),
        `${ph.cpu.simulatorPct.toFixed(0)} %`, ph.cpu.platformPct === undefined ? '—' : `${ph.cpu.platformPct.toFixed(0)} %`,
        ph.cpu.machinePct === undefined ? '—' : `${ph.cpu.machinePct.toFixed(0)} % of ${ph.cpu.cores ?? '?'} cores`,
      ]),
    });
    const reasons = b.phases.flatMap((ph) => ph.rejectReasons.slice(0, 5).map((r) => [ph.name, r.reason, n0(r.presses)]));
    if (reasons.length) tables.push({ title: 'Rejected presses', head: ['phase', 'reason', 'presses'], rows: reasons });
    const lat = (what: string, s: LatencySummary): string[] => [what, String(s.count), fmtMs(s.p50), fmtMs(s.p90), fmtMs(s.p99), fmtMs(s.p999), fmtMs(s.max)];
    const rows = b.phases.flatMap((ph) => [
      [ph.name, ...lat('press → received', ph.receivedMs)],
      [ph.name, ...lat('press → CIC (SSE)', ph.cicMs)],
    ]);
    // the platform's own histograms: bucket bounds, not exact percentiles
    const server = (what: string, s: { p50?: number; p90?: number; p99?: number; count: number } | undefined) => {
      if (s?.count) rows.push(['all', what, String(s.count), bucketBound(s.p50), bucketBound(s.p90), bucketBound(s.p99), '—', '—']);
    };
    server('server histogram (bucket bounds)', b.server?.pressToReceivedMs);
    server('server: folded joins → their event in the log', b.server?.announceMs);
    server('server: event in the log → streams', b.server?.eventLogMs);
    if (b.baseline) {
      const e = b.baseline.echoMs;
      rows.push(['baseline', `QoS 1 echo ${b.baseline.url}`, ...lat('', e).slice(1)]);
      if (b.baseline.withoutNoDelayMs) rows.push(['baseline', 'echo, Nagle on (no TCP_NODELAY)', ...lat('', b.baseline.withoutNoDelayMs).slice(1)]);
      rows.push([b.phases[0]!.name, 'ratio press → received / echo', '', `×${b.baseline.ratioP50?.toFixed(1) ?? '—'}`, '', `×${b.baseline.ratioP99?.toFixed(1) ?? '—'}`, '', '']);
    }
    tables.push({ title: 'Latency', head: ['phase', 'from the press to', 'n', 'p50', 'p90', 'p99', 'p99.9', 'max'], rows });
  }
  if (b.server?.steps?.length) tables.push(pressStepsTable('Where the press path spends its time (the platform\'s own timing, amr_press_step_seconds)', b.server.steps));
  if (b.flood) {
    const f = b.flood;
    tables.push({
      title: `Flooding device ${f.deviceId}`,
      head: ['', ''],
      rows: [
        ['flooded for', fmtMs(f.ms)],
        ['alarms published / PUBACKs', `${n0(f.publishes)} / ${n0(f.pubacks)}`],
        ['presses acked "received" (distinct seqs) / received acks', `${n0(f.receivedSeqs)} / ${n0(f.receivedAcks)}${f.rejectedAcks ? `; ${n0(f.rejectedAcks)} rejected` : ''}`],
        ['SUBSCRIBEs / SUBACKs', `${n0(f.subscribes)} / ${n0(f.subacks)}`],
        ['disconnected by the platform', f.connects === 0 ? 'never connected' : f.disconnects ? `${f.disconnects}×, first after ${fmtMs(f.firstDisconnectMs)}` : 'never'],
        ['connections / refused or unanswered CONNECTs', `${f.connects} / ${f.refusedConnects}${f.error ? ` (${f.error})` : ''}`],
      ],
    });
  }
  if (b.storm) {
    const s = b.storm;
    tables.push({
      title: 'Reconnect storm',
      head: ['', ''],
      rows: [
        ['every connection dropped', `${n0(s.devices)} devices at ${s.atS.toFixed(1)} s`],
        ['connected again (CONNACK + SUBACK)', `${n0(s.reconnected)} of ${n0(s.devices)}; all after ${fmtMs(s.allConnectedMs)}`],
        ['per device, drop → connected', `p50 ${fmtMs(s.perDeviceMs.p50)}, p99 ${fmtMs(s.perDeviceMs.p99)}, max ${fmtMs(s.perDeviceMs.max)}`],
        ...attemptRows(s),
        [
          'presses sent meanwhile → received',
          `${s.during.presses} presses, ${s.during.lost} lost: p50 ${fmtMs(s.during.receivedMs.p50)}, p99 ${fmtMs(s.during.receivedMs.p99)}, max ${fmtMs(s.during.receivedMs.max)}`,
        ],
        ...(s.listen ? [listenRow(s.listen)] : []),
      ],
    });
  }
  if (b.kill) tables.push(killTable(b.kill));
  const restarted = b.kill?.sinceRestart;
  if (restarted?.connectSteps.length) {
    tables.push({
      title: 'The restarted platform: where the connections waited for their CONNACK (its own timing since its start, amr_mqtt_connect_step_seconds)',
      head: ['step', 'connections', 'mean', 'p50', 'p99'],
      rows: restarted.connectSteps.map((st) => [CONNECT_STEP[st.step] ?? st.step, n0(st.count), fmtMs(st.meanMs), bucketBound(st.p50Ms), bucketBound(st.p99Ms)]),
    });
  }
  if (restarted?.pressSteps.length) tables.push(pressStepsTable('The restarted platform: where the press path spent its time since its start (amr_press_step_seconds)', restarted.pressSteps));
  if (b.idle) {
    const fig = (m: MemoryFigure | undefined, skipped: string | undefined): string[] =>
      // a skipped count shows the reason's first clause here; the whole of it is in the run's lines and notes
      m
        ? [n0(m.connected), `${mibOfKib(m.rssBeforeKiB)} → ${mibOfKib(m.rssConnectedKiB)} → ${mibOfKib(m.rssAfterKiB)}`, m.kibPerDeviceConnected.toFixed(1), m.kibPerDevice.toFixed(1)]
        : [skipped?.split(';')[0] ?? '—', '', '', ''];
    tables.push({
      title: `Idle memory per connected device (keepalive ${b.idle.keepaliveS} s; RSS before connecting → connected → after ${b.idle.idleS} s idle)`,
      head: ['devices', 'platform connected', 'RSS', 'KiB/device connected', 'KiB/device idle', 'heap KiB/device idle', 'baseline connected', 'RSS', 'KiB/device connected', 'KiB/device idle', 'platform / baseline idle'],
      rows: b.idle.steps.map((s) => [
        n0(s.devices),
        ...fig(s.platform, s.platformSkipped),
        s.platform?.heapKibPerDevice === undefined ? '—' : s.platform.heapKibPerDevice.toFixed(1),
        ...fig(s.baseline, s.baselineSkipped),
        s.platform && s.baseline && s.baseline.kibPerDevice > 0 ? `×${(s.platform.kibPerDevice / s.baseline.kibPerDevice).toFixed(1)}` : '—',
      ]),
    });
  }
  tables.push({ title: 'Targets of one node', head: ['target', 'measured', 'verdict'], rows: b.targets.map((t) => [t.target, t.measured, t.verdict]) });
  return tables;
}

function cleanupText(c: CleanupFigure, whose: string): string {
  return `${n0(c.closed)} alarms ${whose} in ${fmtMs(c.ms)}; ${n0(c.refused)} refused${c.firstError ? `, e.g. ${c.firstError}` : ''}`;
}

/** A percentile read from a histogram: the upper bound of the bucket holding it. */
function bucketBound(ms: number | undefined): string {
  return ms === undefined ? '—' : `≤ ${fmtMs(ms)}`;
}

/** The attempts a device needed to get back, and the successful one alone (absent from older results). */
function attemptRows(r: { attempts?: LatencySummary; lastAttemptMs?: LatencySummary }): string[][] {
  if (!r.attempts?.count || !r.lastAttemptMs) return [];
  const a = r.attempts;
  const l = r.lastAttemptMs;
  return [
    ['attempts per device', `p50 ${a.p50}, p99 ${a.p99}, max ${a.max} (the device backs off 1, 2, 4 … 30 s after a failed one)`],
    ['the successful attempt alone (transport → SUBACK)', `p50 ${fmtMs(l.p50)}, p99 ${fmtMs(l.p99)}, max ${fmtMs(l.max)}`],
  ];
}

/** The platform's count of retransmitted presses that waited for their first copy (amr_device_messages_joined_total). */
const JOINED = 'presses sent again before their answer, answered with the first copy (not stored again)';

/** What each step of amr_mqtt_connect_step_seconds covers. */
const CONNECT_STEP: Record<string, string> = {
  read: 'read (TCP accept → its CONNECT read)',
  credentials: 'credentials (the device\'s lookup)',
  connack: 'connack (CONNECT read → CONNACK written)',
};

/** The press path's steps (amr_press_step_seconds): per step, and its cost per press. */
function pressStepsTable(title: string, steps: PressStep[]): BenchTable {
  const presses = steps.find((st) => st.step === 'queued')?.count ?? 0;
  return {
    title,
    head: ['step', 'n', 'mean', 'p50', 'p99', 'total', 'per press'],
    rows: steps.map((st) => [
      st.step === 'queued' ? 'queued (waiting for a batch, per press)' : st.step,
      n0(st.count), fmtMs(st.meanMs), bucketBound(st.p50Ms), bucketBound(st.p99Ms), `${st.totalS.toFixed(2)} s`,
      presses > 0 && st.step !== 'queued' ? fmtMs((st.totalS * 1000) / presses) : '—',
    ]),
  };
}

function killTable(k: KillSection): BenchTable {
  const d = k.during;
  return {
    title: 'Platform killed (SIGKILL) and restarted',
    head: ['', ''],
    rows: [
      ['killed', `at ${k.atS.toFixed(1)} s into the load, ${n0(k.devices)} devices connected`],
      ['platform back (listening again)', k.downMs === null ? `not back${k.error ? `: ${k.error}` : ''}` : `after ${fmtMs(k.downMs)}, on the same database and ports`],
      ['devices connected again (CONNACK + SUBACK)', `${n0(k.reconnected)} of ${n0(k.devices)}; ${k.allConnectedMs === null ? 'not all within the wait' : `all after ${fmtMs(k.allConnectedMs)}`}`],
      ['per device, kill → connected', `p50 ${fmtMs(k.perDeviceMs.p50)}, p99 ${fmtMs(k.perDeviceMs.p99)}, max ${fmtMs(k.perDeviceMs.max)}`],
      ...attemptRows(k),
      [
        'presses sent from the kill until all were back',
        `${n0(d.presses)} presses, ${n0(d.received)} received, ${n0(d.rejected)} rejected, ${n0(d.lost)} lost: press → received p50 ${fmtMs(d.receivedMs.p50)}, p99 ${fmtMs(d.receivedMs.p99)}, max ${fmtMs(d.receivedMs.max)}`,
      ],
      ['the whole run', `${n0(k.run.presses)} presses, ${n0(k.run.lost)} lost, ${n0(k.run.duplicated)} duplicated`],
      ...(k.sinceRestart?.presses
        ? [[
            'presses the restarted platform stored or found stored',
            `${n0(k.sinceRestart.presses.new)} new alarms, ${n0(k.sinceRestart.presses.joined)} joined an open alarm, ${n0(k.sinceRestart.presses.retransmission)} retransmissions answered again`,
          ]]
        : []),
      ...(k.sinceRestart?.joined !== undefined ? [[`${JOINED}, after the restart`, n0(k.sinceRestart.joined)]] : []),
      ...(k.listen ? [listenRow(k.listen)] : []),
    ],
  };
}

function listenRow(listen: ListenFigures): string[] {
  return [
    'connections dropped before the platform saw them (this machine\'s TCP counters)',
    `${n0(listen.overflows)} SYNs dropped at a full accept queue; ${n0(listen.synRetransmits)} SYNs sent again (after 1 s, 3 s, 7 s, 15 s …)`,
  ];
}
