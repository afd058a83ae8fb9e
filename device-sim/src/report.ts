/**
 * The report: result.json and a self-contained report.html (inline CSS and hand-made SVG
 * charts, no script, no external URL) that a reviewer opens without a network.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { benchTables, type BenchSection } from './bench-report.js';
import { failoverTables, type FailoverSection } from './failover-report.js';
import type { EnergyParams, LifePoint, Traffic } from './energy.js';
import { STAGE_LABELS, STAGES, pct, type AlarmCheck, type GroupSummary, type Objective, type PathSummary, type PressSample, type StageKey } from './measure.js';
import type { SmsCentreStats } from './sms-centre.js';
import type { SmsModelSection } from './sms-model.js';
import type { NetworkProfile } from './network.js';
import { fmtMs } from './output.js';

export type { BenchSection } from './bench-report.js';

export interface RunReport {
  title: string;
  scenario: string;
  startedAt: string;
  settings: Record<string, unknown>;
  profiles: Record<string, NetworkProfile>;
  summary: { all: GroupSummary; profiles: Record<string, GroupSummary> };
  samples: PressSample[];
  objectives: Objective[];
  ok: boolean;
  devices?: {
    connectMs: Record<string, number[]>;
    heartbeats: number;
    positions: number;
    reconnects: number;
    coverageCuts: number;
    vibrations: Record<string, number>;
  };
  cic?: { events: number; swept: number; reconnects: number; closed: number; extraAlarms: number };
  energy?: {
    batteryMah: number;
    pressesPerDay: number;
    selfTestsPerDay: number;
    defaults: EnergyParams;
    curves: Array<{ label: string; traffic: Traffic; points: LifePoint[] }>;
  };
  restart?: { atS: number; downMs: number; error?: string };
  platformRssMiB?: number;
  provisioning?: { devices: number; ms: number };
  bench?: BenchSection;
  failover?: FailoverSection;
  /** The platform's alarms for the run's devices against the presses acked with them. */
  alarms?: AlarmCheck;
  sms?: SmsSection;
  notes: string[];
}

/** A run with the SMS path (--sms), beside the same scenario without it. */
export interface SmsSection {
  /** The fallback wait, s. */
  afterS: number;
  /** Per profile and over all: the first `received` per path and on either. */
  paths: { all: PathSummary; profiles: Record<string, PathSummary> };
  /** The same scenario on the same seed without the SMS path. */
  without?: { summary: { all: GroupSummary; profiles: Record<string, GroupSummary> }; alarms: AlarmCheck | null };
  centre: SmsCentreStats;
  /** Charge of the texts sent and received in this run, per profile, from the energy model. */
  energy: Array<{ profile: string; level: string; textsUp: number; textsDown: number; uah: number; perFallbackUah: number }>;
  /** The model's answer (many presses per level, same seed): with and without the SMS path. */
  model: SmsModelSection;
}

export async function writeReport(dir: string, report: RunReport): Promise<{ json: string; html: string }> {
  await mkdir(dir, { recursive: true });
  const json = join(dir, 'result.json');
  const html = join(dir, 'report.html');
  await writeFile(json, `${JSON.stringify(report, null, 2)}\n`);
  await writeFile(html, renderHtml(report));
  return { json, html };
}

// ---- HTML ------------------------------------------------------------------------------------

export const COLORS = ['#1b6ca8', '#e07b00', '#b8222f', '#2a9d48', '#7b4fa0', '#555'];

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}


export function renderHtml(r: RunReport): string {
  const profiles = Object.keys(r.summary.profiles);
  const sections: string[] = [];
  sections.push(`<h1>${escapeHtml(r.title)}</h1>
<p class="meta">Started ${escapeHtml(r.startedAt)} · scenario <b>${escapeHtml(r.scenario)}</b> · verdict <b class="${r.ok ? 'ok' : 'miss'}">${r.ok ? 'all objectives met' : 'objectives missed'}</b></p>`);
  sections.push(`<h2>Objectives</h2>${table(['objective', 'target', 'measured', ''], r.objectives.map((o) => [o.name, o.target, o.actual, o.ok ? '<span class="ok">met</span>' : '<span class="miss">missed</span>']), [3])}`);

  if (r.summary.all.presses > 0) {
    const rows: string[][] = [];
    for (const p of profiles) {
      const s = r.summary.profiles[p]!;
      for (const key of STAGES) {
        const st = s.stages[key];
        rows.push([p, STAGE_LABELS[key], String(st.count), fmtMs(st.p50), fmtMs(st.p90), fmtMs(st.p99), fmtMs(st.max)]);
      }
    }
    sections.push(`<h2>Presses</h2>
<p>${r.summary.all.presses} presses: ${r.summary.all.received} received, ${r.summary.all.lost} lost, ${r.summary.all.duplicated} duplicated, ${r.summary.all.rejected} rejected. Times are from the press (the button woken from sleep) to the event.</p>
${table(['profile', 'stage', 'n', 'p50', 'p90', 'p99', 'max'], rows.map((row) => row.map(escapeHtml)))}
<h2>Latency distributions per stage and profile</h2>
<p>Cumulative share of presses (y) that reached the stage within the time (x). Operator stages include the simulated operator's delays.</p>
<div class="grid">${STAGES.map((key) => cdfChart(STAGE_LABELS[key], profiles.map((p) => ({ label: p, values: r.samples.filter((s) => s.profile === p && s[key] !== undefined).map((s) => s[key]!) })), key)).join('')}</div>
<h2>Success within 10 s and 15 s</h2>
<p>Share of presses with "received" on the device within the deadline, per profile.</p>
${barChart(profiles.map((p) => ({ label: p, values: [r.summary.profiles[p]!.within10s, r.summary.profiles[p]!.within15s] })), ['within 10 s', 'within 15 s'])}`);
  }

  if (r.energy) {
    sections.push(`<h2>Battery life against heartbeat interval</h2>
<p>Energy model (docs/lte-m-model.md): ${r.energy.batteryMah} mAh battery, ${r.energy.selfTestsPerDay} self-test(s) and ${r.energy.pressesPerDay.toFixed(2)} press(es) a day, each press with a GNSS fix and positions every ${r.energy.defaults.locEveryS} s for ${r.energy.defaults.alarmOpenS / 60} min; the MQTT session kept alive within a ${r.energy.defaults.natTimeoutS / 60} min NAT timeout. Radio times per coverage level from the model, not from this run (time-compressed heartbeats do not show a real radio's cost).</p>
${lineChart(r.energy.curves.map((c) => ({ label: c.label, points: c.points.map((pt) => [pt.heartbeatS, pt.lifeDays] as [number, number]) })), { xLabel: 'heartbeat interval', yLabel: 'battery life (days)', xFormat: fmtDuration })}
${table(['heartbeat', ...r.energy.curves.map((c) => `${c.label}: life (avg current)`)], r.energy.curves[0]!.points.map((pt, i) => [fmtDuration(pt.heartbeatS), ...r.energy!.curves.map((c) => `${c.points[i]!.lifeDays.toFixed(0)} d (${c.points[i]!.averageUa.toFixed(1)} µA)`)]))}`);
  }

  if (r.sms) sections.push(smsHtml(r.sms, r.alarms));
  if (r.bench) sections.push(benchSection(r.bench));
  if (r.failover) {
    const f = r.failover;
    const checks = f.checks.map((c) => [escapeHtml(c.name), escapeHtml(c.actual), c.ok ? 'ok' : 'seen']);
    sections.push(`<h2>Failover</h2>${failoverTables(f).map((t) => `<h3>${escapeHtml(t.title)}</h3>${table(t.head, t.rows.map((row) => row.map(escapeHtml)))}`).join('\n')}<h3>Checks (reported, not in the exit code)</h3>${table(['check', 'measured', ''], checks)}`);
  }

  const facts: string[][] = [];
  if (r.devices) {
    for (const [p, list] of Object.entries(r.devices.connectMs)) {
      const sorted = [...list].sort((a, b) => a - b);
      facts.push([`attach + connect (${p})`, sorted.length ? `median ${fmtMs(sorted[Math.floor(sorted.length / 2)]!)}, max ${fmtMs(sorted[sorted.length - 1]!)}` : '—']);
    }
    facts.push(['heartbeats / positions sent', `${r.devices.heartbeats} / ${r.devices.positions}`]);
    facts.push(['reconnections / connections cut by coverage gaps', `${r.devices.reconnects} / ${r.devices.coverageCuts}`]);
    facts.push(['vibrations played', Object.entries(r.devices.vibrations).map(([k, v]) => `${k} ${v}`).join(', ') || '—']);
  }
  if (r.cic) {
    facts.push(['CIC: events seen / alarms closed / extra alarms', `${r.cic.events} / ${r.cic.closed} / ${r.cic.extraAlarms}`]);
    facts.push(['CIC: stream reconnections / alarms found by the sweep after one (their events were missed)', `${r.cic.reconnects} / ${r.cic.swept}`]);
  }
  if (r.restart) facts.push(['platform restart', `killed at ${r.restart.atS.toFixed(1)} s, back after ${fmtMs(r.restart.downMs)}${r.restart.error ? ` — ${r.restart.error}` : ''}`]);
  if (r.provisioning) facts.push(['provisioning', `${r.provisioning.devices} devices in ${fmtMs(r.provisioning.ms)}`]);
  if (r.platformRssMiB !== undefined) facts.push(['platform RSS at the end', `${r.platformRssMiB} MiB`]);
  if (facts.length) sections.push(`<h2>Run</h2>${table(['', ''], facts.map((row) => row.map(escapeHtml)))}`);

  const profileRows = Object.values(r.profiles).map((p) => [
    p.name,
    `${p.level} (${p.couplingLossDb} dB)`,
    `${(p.attachMs.mean / 1000).toFixed(1)} ± ${(p.attachMs.spread / 1000).toFixed(1)} s`,
    `${p.rttMs} ms`,
    `+0…${p.jitterMs} ms`,
    pct(p.loss),
    `${fmtRate(p.uplinkBps)} / ${fmtRate(p.downlinkBps)}`,
    `${(p.wakeMs.mean / 1000).toFixed(2)} s / paging ≤ ${(p.pagingMs / 1000).toFixed(2)} s`,
    `${(p.reacquireMs.mean / 1000).toFixed(2)} s`,
    p.gaps ? `every ~${p.gaps.everyMs / 1000} s for ${p.gaps.durationMs.mean / 1000} ± ${p.gaps.durationMs.spread / 1000} s` : 'none',
  ]);
  if (profileRows.length) {
    sections.push(`<h2>Network profiles</h2>${table(['profile', 'level (coupling loss)', 'attach', 'RTT', 'jitter', 'loss', 'rate up / down', 'from idle', 're-acquisition', 'coverage gaps'], profileRows.map((row) => row.map(escapeHtml)))}`);
  }
  sections.push(`<h2>Settings</h2><pre>${escapeHtml(JSON.stringify(r.settings, null, 2))}</pre>`);
  if (r.notes.length) sections.push(`<h2>Notes</h2><ul>${r.notes.map((n) => `<li>${escapeHtml(n)}</li>`).join('')}</ul>`);

  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(r.title)}</title>
<style>
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:2em auto;max-width:1100px;color:#222;padding:0 1em}
h1{font-size:1.6em}h2{margin-top:1.8em;border-bottom:1px solid #ddd;padding-bottom:.2em}
table{border-collapse:collapse;margin:.6em 0}td,th{border:1px solid #ddd;padding:.25em .6em;text-align:left}th{background:#f4f4f4}
.ok{color:#1d7a34}.miss{color:#b8222f;font-weight:bold}.meta{color:#555}
.grid{display:grid;grid-template-columns:repeat(2,1fr);gap:1em}svg{background:#fff;border:1px solid #e4e4e4}
svg text{font:11px system-ui,sans-serif;fill:#333}pre{background:#f7f7f7;padding:.8em;overflow:auto}
</style></head><body>
${sections.join('\n')}
</body></html>
`;
}

export function table(head: string[], rows: string[][], rawColumns: number[] = []): string {
  const cell = (v: string, i: number) => (rawColumns.includes(i) ? v : escapeHtml(v));
  return `<table><thead><tr>${head.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr></thead><tbody>${rows
    .map((row) => `<tr>${row.map((v, i) => `<td>${rawColumns.length ? cell(v, i) : v}</td>`).join('')}</tr>`)
    .join('')}</tbody></table>`;
}

export function fmtDuration(s: number): string {
  return s >= 3600 ? `${s / 3600} h` : `${s / 60} min`;
}

function fmtRate(bps: number): string {
  return bps >= 1000 ? `${(bps / 1000).toFixed(1)} kbit/s` : `${bps} bit/s`;
}

/** Round axis maximum: 1, 2, 5 × 10^k. */
export function niceMax(v: number): number {
  if (!(v > 0)) return 1;
  const k = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 5, 10]) if (v <= m * k) return m * k;
  return 10 * k;
}

/** Empirical cumulative distribution, one line per series. */
export function cdfChart(title: string, series: Array<{ label: string; values: number[] }>, id: StageKey | string): string {
  const W = 520, H = 260, L = 50, R = 12, T = 28, B = 40;
  const all = series.flatMap((s) => s.values);
  const xMax = niceMax(Math.max(1, ...all) / 1000) * 1000;
  const x = (v: number) => L + (v / xMax) * (W - L - R);
  const y = (f: number) => T + (1 - f) * (H - T - B);
  const parts: string[] = [`<text x="${L}" y="16" font-weight="bold">${escapeHtml(title)}</text>`];
  for (let i = 0; i <= 5; i++) {
    const v = (xMax / 5) * i;
    parts.push(`<line x1="${x(v)}" y1="${T}" x2="${x(v)}" y2="${H - B}" stroke="#eee"/><text x="${x(v)}" y="${H - B + 14}" text-anchor="middle">${fmtMs(v)}</text>`);
  }
  for (const f of [0, 0.25, 0.5, 0.75, 1]) {
    parts.push(`<line x1="${L}" y1="${y(f)}" x2="${W - R}" y2="${y(f)}" stroke="#eee"/><text x="${L - 6}" y="${y(f) + 4}" text-anchor="end">${f * 100} %</text>`);
  }
  series.forEach((s, i) => {
    const sorted = [...s.values].sort((a, b) => a - b);
    if (sorted.length === 0) return;
    let d = `M${x(0).toFixed(1)},${y(0).toFixed(1)}`;
    sorted.forEach((v, j) => {
      d += ` H${x(v).toFixed(1)} V${y((j + 1) / sorted.length).toFixed(1)}`;
    });
    parts.push(`<path d="${d}" fill="none" stroke="${COLORS[i % COLORS.length]}" stroke-width="2"/>`);
  });
  // bottom right: cumulative curves climb to the top right
  parts.push(legend(series.map((s) => `${s.label} (n=${s.values.length})`), W - R - 150, H - B - 8 - 16 * series.length));
  if (all.length === 0) parts.push(`<text x="${W / 2}" y="${H / 2}" text-anchor="middle" fill="#999">no samples</text>`);
  parts.push(`<text x="${(L + W - R) / 2}" y="${H - 6}" text-anchor="middle">time from the press</text>`);
  return `<svg width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" role="img" aria-label="${escapeHtml(title)}" data-chart="cdf-${escapeHtml(String(id))}">${parts.join('')}</svg>`;
}

/** Grouped bars of shares (0–1). */
export function barChart(groups: Array<{ label: string; values: number[] }>, seriesLabels: string[]): string {
  const W = 640, H = 260, L = 50, R = 150, T = 16, B = 34;
  const y = (f: number) => T + (1 - f) * (H - T - B);
  const groupW = (W - L - R) / Math.max(1, groups.length);
  const barW = Math.min(40, (groupW * 0.7) / Math.max(1, seriesLabels.length));
  const parts: string[] = [];
  for (const f of [0, 0.25, 0.5, 0.75, 0.9, 1]) {
    parts.push(`<line x1="${L}" y1="${y(f)}" x2="${W - R}" y2="${y(f)}" stroke="${f === 0.9 ? '#f3c0c0' : '#eee'}"/><text x="${L - 6}" y="${y(f) + 4}" text-anchor="end">${f * 100} %</text>`);
  }
  groups.forEach((g, i) => {
    const x0 = L + i * groupW + (groupW - barW * seriesLabels.length) / 2;
    g.values.forEach((v, j) => {
      const x = x0 + j * barW;
      parts.push(`<rect x="${x.toFixed(1)}" y="${y(v).toFixed(1)}" width="${(barW - 3).toFixed(1)}" height="${(y(0) - y(v)).toFixed(1)}" fill="${COLORS[j % COLORS.length]}"/>`);
      parts.push(`<text x="${(x + barW / 2).toFixed(1)}" y="${(y(v) - 3).toFixed(1)}" text-anchor="middle">${Math.round(v * 100)}</text>`);
    });
    parts.push(`<text x="${(L + i * groupW + groupW / 2).toFixed(1)}" y="${H - B + 16}" text-anchor="middle">${escapeHtml(g.label)}</text>`);
  });
  parts.push(legend(seriesLabels, W - R + 10, T + 4));
  return `<svg width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" role="img" aria-label="success within deadlines" data-chart="bars">${parts.join('')}</svg>`;
}

/** Lines over a logarithmic x axis (heartbeat intervals span minutes to a day). */
export function lineChart(
  series: Array<{ label: string; points: Array<[number, number]> }>,
  axes: { xLabel: string; yLabel: string; xFormat: (v: number) => string },
): string {
  const W = 700, H = 300, L = 60, R = 150, T = 16, B = 44;
  const xs = series.flatMap((s) => s.points.map((p) => p[0]));
  const ys = series.flatMap((s) => s.points.map((p) => p[1]));
  const xMin = Math.min(...xs), xMax = Math.max(...xs);
  const yMax = niceMax(Math.max(1, ...ys));
  const x = (v: number) => L + ((Math.log(v) - Math.log(xMin)) / Math.max(1e-9, Math.log(xMax) - Math.log(xMin))) * (W - L - R);
  const y = (v: number) => T + (1 - v / yMax) * (H - T - B);
  const parts: string[] = [];
  let lastLabel = -Infinity;
  for (const v of [...new Set(xs)].sort((a, b) => a - b)) {
    parts.push(`<line x1="${x(v).toFixed(1)}" y1="${T}" x2="${x(v).toFixed(1)}" y2="${H - B}" stroke="#eee"/>`);
    if (x(v) - lastLabel < 46) continue; // labels would overlap
    lastLabel = x(v);
    parts.push(`<text x="${x(v).toFixed(1)}" y="${H - B + 14}" text-anchor="middle">${escapeHtml(axes.xFormat(v))}</text>`);
  }
  for (let i = 0; i <= 5; i++) {
    const v = (yMax / 5) * i;
    parts.push(`<line x1="${L}" y1="${y(v)}" x2="${W - R}" y2="${y(v)}" stroke="#eee"/><text x="${L - 6}" y="${y(v) + 4}" text-anchor="end">${Math.round(v)}</text>`);
  }
  series.forEach((s, i) => {
    const d = s.points.map((p, j) => `${j === 0 ? 'M' : 'L'}${x(p[0]).toFixed(1)},${y(p[1]).toFixed(1)}`).join(' ');
    parts.push(`<path d="${d}" fill="none" stroke="${COLORS[i % COLORS.length]}" stroke-width="2"/>`);
    for (const p of s.points) parts.push(`<circle cx="${x(p[0]).toFixed(1)}" cy="${y(p[1]).toFixed(1)}" r="2.5" fill="${COLORS[i % COLORS.length]}"/>`);
  });
  parts.push(legend(series.map((s) => s.label), W - R + 10, T + 4));
  parts.push(`<text x="${(L + W - R) / 2}" y="${H - 8}" text-anchor="middle">${escapeHtml(axes.xLabel)} (log scale)</text>`);
  parts.push(`<text x="14" y="${(T + H - B) / 2}" text-anchor="middle" transform="rotate(-90 14 ${(T + H - B) / 2})">${escapeHtml(axes.yLabel)}</text>`);
  return `<svg width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" role="img" aria-label="${escapeHtml(axes.yLabel)}" data-chart="line">${parts.join('')}</svg>`;
}

function legend(labels: string[], x: number, y: number): string {
  return labels
    .map((label, i) => `<rect x="${x}" y="${y + i * 16}" width="10" height="10" fill="${COLORS[i % COLORS.length]}"/><text x="${x + 14}" y="${y + i * 16 + 9}">${escapeHtml(label)}</text>`)
    .join('');
}

const LEVEL_LABELS: Readonly<Record<string, string>> = { normal: 'normal (≤ 144 dB)', 'ce-a': 'CE mode A (144–155 dB)', 'ce-b': 'CE mode B (155–164 dB)' };

/** The SMS path: this run per path against the run without it, the platform's count, energy, and the model's answer. */
export function smsHtml(sms: SmsSection, alarms: AlarmCheck | undefined): string {
  const w = sms.without;
  const runRows = Object.entries(sms.paths.profiles).map(([profile, p]) => {
    const before = w?.summary.profiles[profile];
    return [
      profile,
      String(p.presses),
      `${p.fellBack} (${p.firstBy.sms} first by SMS)`,
      before ? pct(before.within10s) : '—',
      pct(p.mqtt.within10s),
      pct(p.sms.within10s),
      pct(p.both.within10s),
      before ? pct(before.within15s) : '—',
      pct(p.mqtt.within15s),
      pct(p.sms.within15s),
      pct(p.both.within15s),
    ];
  });
  const m = sms.model;
  const modelRows = Object.values(m.levels).map((l) => [
    LEVEL_LABELS[l.level] ?? l.level,
    pct(l.fellBack),
    pct(l.mqtt.within10s),
    pct(l.sms.within10s),
    pct(l.both.within10s),
    pct(l.mqtt.within15s),
    pct(l.sms.within15s),
    pct(l.both.within15s),
    fmtMs(l.both.p50Ms),
    fmtMs(l.both.p99Ms),
  ]);
  const energyRows = Object.values(m.levels).map((l) => [
    LEVEL_LABELS[l.level] ?? l.level,
    `${l.energy.perFallbackUah.toFixed(1)} µAh`,
    `${l.energy.lifeDays.without.toFixed(1)} d`,
    `${l.energy.lifeDays.with.toFixed(1)} d`,
  ]);
  const waitRows = m.waits.map((wt) => [`${wt.afterMs / 1000} s`, ...Object.values(wt.levels).map((v) => `${pct(v.within10s)} / ${pct(v.within15s)}`)]);
  const deadRows = Object.entries(m.deadSession.levels).map(([level, v]) => [
    LEVEL_LABELS[level] ?? level,
    `${pct(v.without.within10s)} / ${pct(v.without.within15s)}`,
    `${pct(v.with.within10s)} / ${pct(v.with.within15s)}`,
  ]);
  const targetRows = m.targets.map((t) => [t.name, `≥ ${pct(t.target)}`, pct(t.without), pct(t.with), t.met ? '<span class="ok">met</span>' : '<span class="miss">missed</span>']);
  const count = (a: AlarmCheck | null | undefined) => (a ? `${a.alarms} alarms, ${a.countedTwice} presses counted twice, ${a.withoutPress} alarms without a press` : 'not checked');
  const c = sms.centre;
  const refused = Object.entries(c.refused).map(([k, v]) => `${v}× HTTP ${k}`).join(', ') || 'none';
  return `<h2>SMS path</h2>
<p>The same scenario ran twice on the same seed: without the SMS path, then with it (a press without "received" over MQTT after ${sms.afterS} s also went by SMS through the simulated SMS centre and gateway; the first "received" on either path stopped both). Shares are of all presses of the profile; "MQTT" and "SMS" count a press on that path whenever its "received" came that way, "both" is the first on either. The live profiles sit at one coupling loss each; the model below covers each level's range.</p>
${table(['profile', 'presses', 'went by SMS', '≤ 10 s without SMS', '≤ 10 s MQTT', '≤ 10 s SMS', '≤ 10 s both', '≤ 15 s without SMS', '≤ 15 s MQTT', '≤ 15 s SMS', '≤ 15 s both'], runRows.map((row) => row.map(escapeHtml)))}
${barChart(Object.keys(sms.paths.profiles).map((p) => ({ label: p, values: [w?.summary.profiles[p]?.within15s ?? 0, sms.paths.profiles[p]!.both.within15s, w?.summary.profiles[p]?.within10s ?? 0, sms.paths.profiles[p]!.both.within10s] })), ['≤ 15 s without SMS', '≤ 15 s with SMS', '≤ 10 s without SMS', '≤ 10 s with SMS'])}
<p>One alarm per press across paths (the platform's alarms, <code>GET /api/v1/alarms</code>): with SMS ${escapeHtml(count(alarms))}; without SMS ${escapeHtml(count(w?.alarms))}.
SMS centre: ${c.submitted} texts from the buttons (${c.accepted} taken by the platform, refused: ${escapeHtml(refused)}, ${c.repostsToPlatform} posted again), ${c.fromPlatform} texts from the platform (${c.delivered} delivered, ${c.unknownRecipient} to unknown numbers), ${c.firstAttemptFailures} not delivered at the first attempt.</p>
${table(['profile', 'level', 'texts up', 'texts down', 'charge', 'per press that fell back'], sms.energy.map((e) => [e.profile, e.level, String(e.textsUp), String(e.textsDown), `${e.uah} µAh`, `${e.perFallbackUah} µAh`].map(escapeHtml)))}
<h3>The model: ${m.samples.toLocaleString('en')} presses per coverage level (seed ${m.seed})</h3>
<p>press-model.ts and sms-model.ts, the figures of docs/lte-m-model.md. The MQTT columns are the same presses without the SMS path.</p>
${table(['level', 'went by SMS', '≤ 10 s MQTT', '≤ 10 s SMS', '≤ 10 s both', '≤ 15 s MQTT', '≤ 15 s SMS', '≤ 15 s both', 'p50 both', 'p99 both'], modelRows.map((row) => row.map(escapeHtml)))}
<h3>Targets at the deepest level</h3>
${table(['target', 'share', 'without SMS', 'with SMS', ''], targetRows, [4])}
<h3>Battery cost of the fallback</h3>
<p>Each press that falls back costs one text up (the radio already connected by the press) and one down (paged), each with its RRC tail and active time; at ${m.usage.pressesPerDay.toFixed(2)} alarms a day, ${m.usage.batteryMah} mAh, 1 h heartbeat, session kept.</p>
${table(['level', 'per fallback', 'battery life without', 'with the fallback'], energyRows.map((row) => row.map(escapeHtml)))}
<h3>What the fallback wait changes</h3>
<p>"received" on either path within 10 s / 15 s for each fallback wait.</p>
${table(['fallback wait', ...Object.keys(m.levels).map((l) => LEVEL_LABELS[l] ?? l)], waitRows.map((row) => row.map(escapeHtml)))}
<h3>Illustration: ${pct(m.deadSession.share)} of presses find the MQTT session dead</h3>
<p>No source gives this share; it shows where the SMS path earns its place. The button notices after 5 s without PUBACK and sets the session up again.</p>
${table(['level', 'without SMS ≤ 10 s / 15 s', 'with SMS ≤ 10 s / 15 s'], deadRows.map((row) => row.map(escapeHtml)))}`;
}

function benchSection(b: BenchSection): string {
  const main = b.phases[0];
  const bars = b.baseline && main
    ? barMs([
        { label: 'p50', values: [main.receivedMs.p50 ?? 0, b.baseline.echoMs.p50 ?? 0] },
        { label: 'p90', values: [main.receivedMs.p90 ?? 0, b.baseline.echoMs.p90 ?? 0] },
        { label: 'p99', values: [main.receivedMs.p99 ?? 0, b.baseline.echoMs.p99 ?? 0] },
      ], ['AMR press → received', 'baseline QoS 1 echo'])
    : '';
  const verdicts = (t: { head: string[]; rows: string[][] }) =>
    t.head[t.head.length - 1] === 'verdict'
      ? table(t.head, t.rows.map((row) => [...row.slice(0, -1).map(escapeHtml), `<span class="${row[row.length - 1] === 'met' ? 'ok' : row[row.length - 1] === 'missed' ? 'miss' : 'meta'}">${escapeHtml(row[row.length - 1]!)}</span>`]), [t.head.length - 1])
      : table(t.head, t.rows.map((row) => row.map(escapeHtml)));
  return `<h2>Bench: one platform node</h2>${benchTables(b).map((t) => `<h3>${escapeHtml(t.title)}</h3>${verdicts(t)}`).join('\n')}${bars}`;
}

function barMs(groups: Array<{ label: string; values: number[] }>, seriesLabels: string[]): string {
  const W = 640, H = 240, L = 60, R = 180, T = 16, B = 30;
  const yMax = niceMax(Math.max(0.001, ...groups.flatMap((g) => g.values)));
  const y = (v: number) => T + (1 - v / yMax) * (H - T - B);
  const groupW = (W - L - R) / groups.length;
  const barW = 36;
  const parts: string[] = [];
  for (let i = 0; i <= 4; i++) {
    const v = (yMax / 4) * i;
    parts.push(`<line x1="${L}" y1="${y(v)}" x2="${W - R}" y2="${y(v)}" stroke="#eee"/><text x="${L - 6}" y="${y(v) + 4}" text-anchor="end">${fmtMs(v)}</text>`);
  }
  groups.forEach((g, i) => {
    const x0 = L + i * groupW + (groupW - barW * g.values.length) / 2;
    g.values.forEach((v, j) => {
      parts.push(`<rect x="${(x0 + j * barW).toFixed(1)}" y="${y(v).toFixed(1)}" width="${barW - 4}" height="${(y(0) - y(v)).toFixed(1)}" fill="${COLORS[j % COLORS.length]}"/>`);
    });
    parts.push(`<text x="${(L + i * groupW + groupW / 2).toFixed(1)}" y="${H - B + 16}" text-anchor="middle">${g.label}</text>`);
  });
  parts.push(legend(seriesLabels, W - R + 10, T + 4));
  return `<svg width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" role="img" aria-label="bench against baseline" data-chart="bench">${parts.join('')}</svg>`;
}
