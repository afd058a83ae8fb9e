/**
 * The targets of one platform node (docs/performance.md), held against what a bench run measured.
 * Each target holds under stated conditions (a rate, a fleet size, a mode); a run that does not
 * meet the conditions shows its figure without a verdict. Benchmarks, not timed tests: the
 * verdicts are reported, they do not set the exit code. Pure.
 */
import { fmtMs as fmt } from './output.js';
import type { LatencySummary } from './stats.js';

export type Verdict = 'met' | 'missed' | 'not measured';

export interface TargetRow {
  target: string;
  /** What this run measured (or why it could not). */
  measured: string;
  verdict: Verdict;
}

/** What the targets are judged on; every part is optional (a run measures some of them). */
export interface TargetInputs {
  devices: number;
  /** Presses per second asked of the main (quiet) phase. */
  rate?: number;
  operator?: boolean;
  /** Press → `received` on the device, main (quiet) phase. */
  receivedMs?: LatencySummary;
  /** Press → the alarm on the CIC's event stream, main phase. */
  cicMs?: LatencySummary;
  /** `received` presses per second over the main phase. */
  durablePerS?: number;
  lost?: number;
  duplicated?: number;
  /** The plain broker's QoS 1 echo, same run. */
  echoMs?: LatencySummary;
  /** `flooded`: the flooding device got to send (a flood that never connected measures nothing). */
  flood?: { quietP99: number | null; floodP99: number | null; flooded: boolean };
  storm?: { devices: number; allConnectedMs: number | null; reconnected: number };
  /**
   * The platform killed (SIGKILL) during the load and started again (--restart-at): when, how long
   * it was down (null: it did not come back), and the whole load phase's lost and duplicated presses.
   */
  kill?: { atS: number; downMs: number | null; lost: number; duplicated: number };
  idle?: Array<{ devices: number; kibPerDevice: number | null }>;
}

/** Rates at or below this count as "a low rate" for the p50 target. */
export const LOW_RATE = 100;


export function evaluateTargets(m: TargetInputs): TargetRow[] {
  const rows: TargetRow[] = [];
  const rate = m.rate ?? 0;
  const at = `at ${rate} presses/s, ${m.devices} devices`;
  const judge = (applies: boolean, ok: boolean): Verdict => (applies ? (ok ? 'met' : 'missed') : 'not measured');

  if (m.receivedMs) {
    const p99 = m.receivedMs.p99;
    const echo = m.echoMs?.p99 ?? null;
    const ratio = p99 !== null && echo ? p99 / echo : null;
    const applies = rate >= 1000 && m.devices >= 10_000 && ratio !== null;
    rows.push({
      target: 'press → received p99 ≤ 5 × the plain broker\'s QoS 1 echo p99 (1,000 presses/s, 10,000 devices)',
      measured: echo === null ? `p99 ${fmt(p99)} ${at}; no --baseline` : `p99 ${fmt(p99)} / echo ${fmt(echo)} = ×${ratio?.toFixed(1) ?? '—'} ${at}`,
      verdict: judge(applies, ratio !== null && ratio <= 5),
    });
    rows.push({
      target: `press → received p50 ≤ 2 ms at a low rate (≤ ${LOW_RATE} presses/s)`,
      measured: `p50 ${fmt(m.receivedMs.p50)} ${at}`,
      verdict: judge(rate > 0 && rate <= LOW_RATE && m.receivedMs.p50 !== null, (m.receivedMs.p50 ?? Infinity) <= 2),
    });
  }
  if (m.durablePerS !== undefined) {
    const clean = (m.lost ?? 0) === 0 && (m.duplicated ?? 0) === 0;
    rows.push({
      target: '≥ 5,000 presses/s durable, 0 lost, 0 duplicated',
      measured: `${m.durablePerS.toFixed(0)} presses/s received (asked ${rate}), ${m.lost ?? 0} lost, ${m.duplicated ?? 0} duplicated`,
      verdict: judge(rate >= 5000 && !m.operator, m.durablePerS >= 5000 && clean),
    });
    if (m.receivedMs) {
      rows.push({
        target: 'simulated operator working every alarm: ≥ 500 presses/s sustained, press → received p99 ≤ 20 ms',
        measured: m.operator ? `${m.durablePerS.toFixed(0)} presses/s, p99 ${fmt(m.receivedMs.p99)}` : 'run without the operator (--no-operator)',
        verdict: judge(!!m.operator && rate >= 500, m.durablePerS >= 500 && (m.receivedMs.p99 ?? Infinity) <= 20),
      });
    }
  }
  if (m.cicMs) {
    rows.push({
      target: 'press → alarm on the CIC\'s event stream p99 ≤ 8 ms at 1,000 presses/s',
      measured: `p99 ${fmt(m.cicMs.p99)} ${at}`,
      verdict: judge(rate >= 1000 && m.cicMs.p99 !== null, (m.cicMs.p99 ?? Infinity) <= 8),
    });
  }
  if (m.flood) {
    const { quietP99, floodP99, flooded } = m.flood;
    const ratio = quietP99 && floodP99 !== null ? floodP99 / quietP99 : null;
    rows.push({
      target: 'one device flooding: the other devices\' press → received p99 ≤ 2 × the quiet run\'s',
      measured: `p99 ${fmt(floodP99)} flooded / ${fmt(quietP99)} quiet = ×${ratio?.toFixed(2) ?? '—'}${flooded ? '' : '; the flooding device could not send'}`,
      verdict: judge(ratio !== null && flooded, ratio !== null && ratio <= 2),
    });
  }
  if (m.storm) {
    const { devices, allConnectedMs, reconnected } = m.storm;
    rows.push({
      target: 'reconnect storm of 10,000 devices: all connected again within 10 s',
      measured: allConnectedMs === null ? `${reconnected} of ${devices} reconnected` : `${devices} devices: all connected again after ${(allConnectedMs / 1000).toFixed(2)} s`,
      verdict: judge(devices >= 10_000, allConnectedMs !== null && allConnectedMs <= 10_000),
    });
  }
  if (m.idle) {
    const measured = m.idle.filter((s) => s.kibPerDevice !== null);
    rows.push({
      target: 'idle memory ≤ 20 KiB per connected device (100,000 devices in ≤ 2 GiB)',
      measured: m.idle.map((s) => `${s.devices}: ${s.kibPerDevice === null ? 'not measured' : `${s.kibPerDevice.toFixed(1)} KiB`}`).join(', '),
      verdict: judge(measured.length > 0, measured.every((s) => s.kibPerDevice! <= 20)),
    });
  }
  rows.push(killRow(m, rate));
  return rows;
}

/** kill -9 under load: judged on a run that killed its platform, whatever its rate (the text gives it). */
function killRow(m: TargetInputs, rate: number): TargetRow {
  const target = 'kill -9 of the platform during the highest-rate run: 0 lost, 0 duplicated after the restart';
  const k = m.kill;
  if (!k) return { target, measured: 'no kill in this run: bench --restart-at S kills the platform S into the load', verdict: 'not measured' };
  const back = k.downMs === null ? 'the platform did not come back' : `back after ${fmt(k.downMs)}`;
  return {
    target,
    measured: `killed at ${k.atS.toFixed(1)} s of ${rate} presses/s, ${m.devices} devices: ${back}; ${k.lost} lost, ${k.duplicated} duplicated`,
    verdict: k.downMs !== null && k.lost === 0 && k.duplicated === 0 ? 'met' : 'missed',
  };
}
