import { describe, expect, it } from '@jest/globals';
import { benchTables, type BenchSection } from './bench-report.js';
import { evaluateTargets } from './bench-targets.js';
import { BitSet } from './flood.js';
import { fmtMs, textTable } from './output.js';
import { renderHtml, type RunReport } from './report.js';
import { summarize } from './stats.js';

const latency = summarize([0.8, 1.1, 1.4, 2.2, 9.5]);

function section(): BenchSection {
  const phase = (name: string) => ({
    name, seconds: 60, askedRate: 1000, achievedRate: 999.7, lagMs: summarize([0.1, 0.4]), heldBack: 0, presses: 60_000, received: 60_000,
    lost: 0, rejected: 2, rejectReasons: [{ reason: 'platform unavailable: press again', presses: 2 }], duplicated: 0, aborted: 0, retransmissions: 0, durablePerS: 998.2, receivedMs: latency, cicMs: latency,
    cpu: name === 'quiet' ? { simulatorPct: 35, platformPct: 120, machinePct: 97.4, cores: 2 } : { simulatorPct: 35, platformPct: 120 },
  });
  return {
    devices: 10_000,
    addresses: 10,
    provisioning: { provisioned: 10_000, reused: 0, ms: 21_000, cases: 1000, devicesPerCase: 10, batch: true },
    connect: { ms: 9000, perSecond: 1111, failed: 0 },
    heartbeatS: 60,
    phases: [phase('quiet'), phase('flood')],
    rssMiB: { platformIdle: 600, platformPeak: 700, simulator: 400 },
    baseline: { url: 'mqtt://127.0.0.1:1883', echoMs: summarize([0.1, 0.2, 0.3]), ratioP50: 5.5, ratioP99: 31.7, noDelay: true },
    flood: { deviceId: 'btn-flood', ms: 60_000, connects: 2, refusedConnects: 0, disconnects: 1, firstDisconnectMs: 812, publishes: 90_000, pubacks: 12, receivedSeqs: 10, receivedAcks: 11, rejectedAcks: 0, subscribes: 90_000, subacks: 3, lastSeq: 1_090_000 },
    storm: { devices: 10_000, atS: 20, reconnected: 10_000, perDeviceMs: latency, allConnectedMs: 8200, during: { presses: 8000, received: 8000, lost: 0, receivedMs: latency } },
    kill: {
      atS: 10, downMs: 4250, devices: 10_000, reconnected: 10_000, perDeviceMs: latency, allConnectedMs: 7300,
      during: { presses: 1460, received: 1458, rejected: 0, lost: 2, receivedMs: latency }, run: { presses: 60_000, lost: 2, duplicated: 1 },
    },
    idle: {
      keepaliveS: 300,
      idleS: 90,
      openFiles: { simulator: { soft: 20_000, hard: 20_000 } },
      steps: [
        { devices: 10_000, platform: { connected: 10_000, rssBeforeKiB: 400_000, rssConnectedKiB: 700_000, kibPerDeviceConnected: 30, rssAfterKiB: 600_000, kibPerDevice: 20, heapKibPerDevice: 9, connectMs: 5000, failed: 0 }, baseline: { connected: 10_000, rssBeforeKiB: 5000, rssConnectedKiB: 12_000, kibPerDeviceConnected: 0.7, rssAfterKiB: 12_000, kibPerDevice: 0.7, connectMs: 900, failed: 0 } },
        { devices: 50_000, platformSkipped: 'not measured: ulimit -n', baselineSkipped: 'not measured: ulimit -n' },
      ],
    },
    cic: { integrations: 11, delivered: 9_998, refused: 2, firstError: 'POST /api/v1/alarms/a1/delivered: HTTP 403: handed over' },
    cleanup: { before: { closed: 0, refused: 0, ms: 45 }, after: { closed: 10_000, refused: 0, ms: 21_300 } },
    targets: evaluateTargets({ devices: 10_000, rate: 1000, receivedMs: latency, echoMs: summarize([0.1, 0.2, 0.3]), flood: { quietP99: 9.5, floodP99: 9.5, flooded: true } }),
  };
}

describe('bench tables', () => {
  const tables = benchTables(section());

  it('gives every part of a run its table, the targets last', () => {
    expect(tables.map((t) => t.title)).toEqual(['Run', 'Load', 'Rejected presses', 'Latency', 'Flooding device btn-flood', 'Reconnect storm', 'Platform killed (SIGKILL) and restarted', 'Idle memory per connected device (keepalive 300 s; RSS before connecting → connected → after 90 s idle)', 'Targets of one node']);
    expect(tables.find((t) => t.title === 'Rejected presses')!.rows[0]).toEqual(['quiet', 'platform unavailable: press again', '2']);
    for (const t of tables) for (const row of t.rows) expect(row).toHaveLength(t.head.length);
  });

  it("shows each phase's CPU: the simulator's and the platform's of one core, the whole machine's of all its cores", () => {
    const load = tables.find((t) => t.title === 'Load')!;
    const column = (name: string) => load.head.indexOf(name);
    const quiet = load.rows.find((r) => r[0] === 'quiet')!;
    expect([quiet[column('CPU sim')], quiet[column('CPU platform')], quiet[column('CPU machine')]]).toEqual(['35 %', '120 %', '97 % of 2 cores']);
    expect(load.rows.find((r) => r[0] === 'flood')![column('CPU machine')]).toBe('—'); // an older result has no machine figure
  });

  it('shows the quiet and the flooded phase, p99.9 and the ratio to the plain broker', () => {
    const latencyRows = tables.find((t) => t.title === 'Latency')!.rows;
    expect(latencyRows.map((r) => `${r[0]} ${r[1]}`)).toContain('flood press → received');
    expect(tables.find((t) => t.title === 'Latency')!.head).toContain('p99.9');
    expect(latencyRows.find((r) => r[1]!.startsWith('ratio'))).toEqual(['quiet', 'ratio press → received / echo', '', '×5.5', '', '×31.7', '', '']);
  });

  it('compares memory per idle device with the plain broker, and says why a count was not measured', () => {
    const idle = tables.find((t) => t.title.startsWith('Idle'))!;
    expect(idle.rows[0]).toEqual(['10,000', '10,000', '390.6 MiB → 683.6 MiB → 585.9 MiB', '30.0', '20.0', '9.0', '10,000', '4.9 MiB → 11.7 MiB → 11.7 MiB', '0.7', '0.7', '×28.6']);
    expect(idle.rows[1]![1]).toBe('not measured: ulimit -n');
  });

  it('shows the kill: when, the platform and the devices back, the presses meanwhile, lost and duplicated', () => {
    const rows = Object.fromEntries(tables.find((t) => t.title.startsWith('Platform killed'))!.rows.map(([k, v]) => [k, v]));
    expect(rows['killed']).toBe('at 10.0 s into the load, 10,000 devices connected');
    expect(rows['platform back (listening again)']).toBe('after 4.25 s, on the same database and ports');
    expect(rows['devices connected again (CONNACK + SUBACK)']).toBe('10,000 of 10,000; all after 7.30 s');
    expect(rows['presses sent from the kill until all were back']).toMatch(/^1,460 presses, 1,458 received, 0 rejected, 2 lost: press → received p50 /);
    expect(rows['the whole run']).toBe('60,000 presses, 2 lost, 1 duplicated');
    expect(rows['attempts per device']).toBeUndefined(); // an older result has no attempts
    const withAttempts = benchTables({ ...section(), kill: { ...section().kill!, attempts: summarize([1, 1, 3]), lastAttemptMs: summarize([20, 30, 4000]) } });
    const attemptRows = Object.fromEntries(withAttempts.find((t) => t.title.startsWith('Platform killed'))!.rows.map(([k, v]) => [k, v]));
    expect(attemptRows['attempts per device']).toMatch(/^p50 1, p99 3, max 3 /);
    expect(attemptRows['the successful attempt alone (transport → SUBACK)']).toBe('p50 30.0 ms, p99 4.00 s, max 4.00 s');
    const down = benchTables({ ...section(), kill: { ...section().kill!, downMs: null, error: 'the platform exited during start-up', reconnected: 0, allConnectedMs: null } });
    const failed = down.find((t) => t.title.startsWith('Platform killed'))!.rows;
    expect(failed[1]).toEqual(['platform back (listening again)', 'not back: the platform exited during start-up']);
    expect(failed[2]).toEqual(['devices connected again (CONNACK + SUBACK)', '0 of 10,000; not all within the wait']);
  });

  it('shows where the restarted platform\'s connections waited, when it could be scraped', () => {
    const step = (name: string, count: number, meanMs: number, p99Ms: number) => ({ step: name, count, meanMs, p50Ms: meanMs, p99Ms, totalS: (count * meanMs) / 1000 });
    const sinceRestart = { connectSteps: [step('read', 10_000, 2, 10), step('credentials', 10_000, 400, 1000), step('connack', 10_000, 450, 1000)], pressSteps: [step('queued', 3000, 5, 50), step('commit', 40, 2, 5)] };
    const restarted = benchTables({ ...section(), kill: { ...section().kill!, sinceRestart } });
    const connects = restarted.find((t) => t.title.startsWith('The restarted platform: where the connections waited'))!;
    expect(connects.rows).toEqual([
      ['read (TCP accept → its CONNECT read)', '10,000', '2.00 ms', '≤ 2.00 ms', '≤ 10.0 ms'],
      ['credentials (the device\'s lookup)', '10,000', '400.0 ms', '≤ 400.0 ms', '≤ 1.00 s'],
      ['connack (CONNECT read → CONNACK written)', '10,000', '450.0 ms', '≤ 450.0 ms', '≤ 1.00 s'],
    ]);
    const presses = restarted.find((t) => t.title.startsWith('The restarted platform: where the press path'))!;
    expect(presses.rows.map((r) => r[0])).toEqual(['queued (waiting for a batch, per press)', 'commit']);
    expect(tables.some((t) => t.title.startsWith('The restarted platform'))).toBe(false); // an older result has none
    const rows = Object.fromEntries(benchTables({ ...section(), kill: { ...section().kill!, sinceRestart: { ...sinceRestart, joined: 1234, presses: { new: 10, joined: 9000, retransmission: 60000 } }, listen: { overflows: 26108, synRetransmits: 11917 } } })
      .find((t) => t.title.startsWith('Platform killed'))!.rows.map(([k, v]) => [k, v]));
    expect(rows['presses sent again before their answer, answered with the first copy (not stored again), after the restart']).toBe('1,234');
    expect(rows['presses the restarted platform stored or found stored']).toBe('10 new alarms, 9,000 joined an open alarm, 60,000 retransmissions answered again');
    expect(rows['connections dropped before the platform saw them (this machine\'s TCP counters)']).toBe('26,108 SYNs dropped at a full accept queue; 11,917 SYNs sent again (after 1 s, 3 s, 7 s, 15 s …)');
  });

  it('shows the connections a storm lost at the accept queue, and nothing of it for an older result', () => {
    const storm = (listen?: { overflows: number; synRetransmits: number }) =>
      benchTables({ ...section(), storm: { ...section().storm!, ...(listen ? { listen } : {}) } }).find((t) => t.title === 'Reconnect storm')!.rows;
    expect(storm({ overflows: 1085, synRetransmits: 1090 }).at(-1)).toEqual([
      'connections dropped before the platform saw them (this machine\'s TCP counters)',
      '1,085 SYNs dropped at a full accept queue; 1,090 SYNs sent again (after 1 s, 3 s, 7 s, 15 s …)',
    ]);
    expect(storm().map((r) => r[0])).not.toContain('connections dropped before the platform saw them (this machine\'s TCP counters)');
  });

  it('counts the CIC\'s delivery confirmations and the alarms the bench closed, apart from the latencies', () => {
    const rows = Object.fromEntries(tables.find((t) => t.title === 'Run')!.rows.map(([k, v]) => [k, v]));
    expect(rows['delivery confirmed by the CIC']).toBe('9,998 alarms, by 11 integrations (one per CIC); 2 refused or failed, e.g. POST /api/v1/alarms/a1/delivered: HTTP 403: handed over');
    expect(rows['closed before the load']).toBe('0 alarms left open by earlier runs in 45.0 ms; 0 refused');
    expect(rows['closed after the measurement']).toBe('10,000 alarms of this run in 21.30 s; 0 refused');
  });

  it('shows where the platform spent the press path, per step and per press, and the events\' wait in the log', () => {
    const steps = [
      { step: 'queued', count: 1000, meanMs: 2, p50Ms: 2, p99Ms: 10, totalS: 2 },
      { step: 'press-write', count: 100, meanMs: 5, p50Ms: 5, p99Ms: 20, totalS: 0.5 },
    ];
    const all = benchTables({ ...section(), server: { pressToReceivedMs: { count: 1000 }, eventLogMs: { count: 50, p50: 5, p90: 10, p99: 50 }, steps } });
    expect(all.find((t) => t.title === 'Latency')!.rows).toContainEqual(['all', 'server: event in the log → streams', '50', '≤ 5.00 ms', '≤ 10.0 ms', '≤ 50.0 ms', '—', '—']);
    const profile = all.find((t) => t.title.startsWith('Where the press path'))!;
    expect(profile.rows).toEqual([
      ['queued (waiting for a batch, per press)', '1,000', '2.00 ms', '≤ 2.00 ms', '≤ 10.0 ms', '2.00 s', '—'],
      ['press-write', '100', '5.00 ms', '≤ 5.00 ms', '≤ 20.0 ms', '0.50 s', '0.50 ms'],
    ]);
  });

  it('prints as aligned columns on the terminal; facts without a header', () => {
    const lines = textTable(['phase', 'p99'], [['quiet', fmtMs(4.2)], ['flood', fmtMs(1234)]]);
    expect(lines).toEqual(['phase  p99', '─────  ───────', 'quiet  4.20 ms', 'flood   1.23 s']);
    expect(textTable(['', ''], [['connect', '9.00 s']])).toEqual(['connect  9.00 s']);
  });

  it('renders the verdicts in report.html', () => {
    const report: RunReport = {
      title: 'bench', scenario: 'bench', startedAt: '2026-12-01T00:00:00.000Z', settings: {}, profiles: {},
      summary: { all: { presses: 0 } as never, profiles: {} }, samples: [], objectives: [], ok: true, bench: section(), notes: [],
    };
    const html = renderHtml(report);
    expect(html).toContain('<h3>Targets of one node</h3>');
    expect(html).toContain('<span class="ok">met</span>');
    expect(html).toContain('data-chart="bench"');
    expect(html).not.toMatch(/<script|https?:\/\//);
  });
});

describe(BitSet.name, () => {
  it('counts distinct numbers and grows as needed', () => {
    const set = new BitSet();
    for (const n of [0, 7, 7, 8, 100_000, 0]) set.add(n);
    expect(set.size).toBe(4);
  });
});
