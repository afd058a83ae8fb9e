/**
 * The sensitivity report: text lines for the terminal and a self-contained report.html (inline
 * SVG: the base answers, the battery curves and one tornado chart per headline answer).
 */
import { COVERAGE_LEVELS, COVERAGE_LEVEL_NAMES, type CoverageLevelName } from './coverage.js';
import { SESSION_STRATEGIES } from './energy.js';
import { fmtMs } from './output.js';
import { COLORS, barChart, escapeHtml, fmtDuration, lineChart, table } from './report.js';
import { ASSUMPTIONS, DEPTH_TARGETS, ranked, type Metrics, type SensitivityResult } from './sensitivity.js';

interface HeadlineMetric {
  id: string;
  title: string;
  value: (m: Metrics) => number;
  format: (v: number) => string;
}

const pct = (v: number) => `${(v * 100).toFixed(1)} %`;
const days = (v: number) => `${Math.round(v)} d`;

/** The headline answers each tornado chart shows. */
export function headlineMetrics(result: SensitivityResult): HeadlineMetric[] {
  const hb = fmtDuration(result.headlineHeartbeatS);
  return [
    ...(['ce-b', 'ce-a'] as const).flatMap((l) => [
      { id: `w10-${l}`, title: `${COVERAGE_LEVELS[l].label}: received within 10 s`, value: (m: Metrics) => m.within10s[l], format: pct },
      { id: `w15-${l}`, title: `${COVERAGE_LEVELS[l].label}: received within 15 s`, value: (m: Metrics) => m.within15s[l], format: pct },
    ]),
    ...(['normal', 'ce-b'] as const).map((l) => ({ id: `life-${l}`, title: `${COVERAGE_LEVELS[l].label}: battery life, heartbeat ${hb}`, value: (m: Metrics) => m.lifeDays[l], format: days })),
  ];
}

export function sensitivityLines(result: SensitivityResult): string[] {
  const lines: string[] = [];
  lines.push(`model     ${result.samples} presses per level and variation, seed ${result.seed}; battery ${result.usage.batteryMah} mAh, ${result.usage.pressesPerDay.toFixed(2)} alarm(s) and ${result.usage.selfTestsPerDay} self-test(s) a day`);
  for (const session of SESSION_STRATEGIES) {
    const h = result.base[session];
    for (const level of COVERAGE_LEVEL_NAMES) {
      const l = h.latency[level];
      const life = h.life[level].find((p) => p.heartbeatS === result.headlineHeartbeatS)!;
      lines.push(
        `  ${session.padEnd(9)} ${level.padEnd(6)} received ≤10 s ${pct(l.within10s).padStart(7)}  ≤15 s ${pct(l.within15s).padStart(7)}  p50 ${fmtMs(l.p50Ms).padStart(8)}  p90 ${fmtMs(l.p90Ms).padStart(8)}  battery ${days(life.lifeDays)} at ${fmtDuration(result.headlineHeartbeatS)}`,
      );
    }
  }
  for (const metric of headlineMetrics(result)) {
    const top = ranked(result, metric.value).slice(0, 3);
    lines.push(`  moves "${metric.title}" (base ${metric.format(metric.value(result.baseMetrics))}): ${top.map((r) => `${r.variation.assumption.label} ${metric.format(r.low)} … ${metric.format(r.high)}`).join('; ') || 'nothing'}`);
  }
  lines.push(`  ${depthSentence(result)}`);
  return lines;
}

/** The depth sweep's answer in one sentence. */
export function depthSentence(result: SensitivityResult): string {
  const { deepestMet, deepestMetByRadio } = result.depth;
  const targets = `≥ ${pct(DEPTH_TARGETS.within10s)} within 10 s and ≥ ${pct(DEPTH_TARGETS.within15s)} within 15 s`;
  const at = (db: number | null) => (db === null ? 'at no coupling loss from the edge of normal coverage on' : `down to ${db} dB`);
  return `targets (${targets}) hold ${at(deepestMet)} as modelled, ${at(deepestMetByRadio)} by the radio alone (no outages)`;
}

export function renderSensitivityHtml(result: SensitivityResult, startedAt: string): string {
  const sections: string[] = [];
  sections.push(`<h1>AMR 2.0 device simulator — sensitivity of the LTE-M model</h1>
<p class="meta">Started ${escapeHtml(startedAt)} · ${result.samples} presses per coverage level and variation · seed ${result.seed} · model and sources: docs/lte-m-model.md</p>`);

  const rows = SESSION_STRATEGIES.flatMap((session) =>
    COVERAGE_LEVEL_NAMES.map((level) => {
      const l = result.base[session].latency[level];
      return [session, COVERAGE_LEVELS[level].label, pct(l.within10s), pct(l.within15s), fmtMs(l.p50Ms), fmtMs(l.p90Ms), fmtMs(l.p99Ms)];
    }),
  );
  sections.push(`<h2>Press → "received" per coverage level (base model)</h2>
<p>keepalive: the MQTT session is kept through sleep (a heartbeat or PINGREQ within the NAT timeout); reconnect: TCP, TLS and MQTT are set up again at every press. A press starts from PSM; coupling loss uniform over the level.</p>
${table(['session', 'coverage level', 'within 10 s', 'within 15 s', 'p50', 'p90', 'p99'], rows.map((r) => r.map(escapeHtml)))}
${barChart(SESSION_STRATEGIES.flatMap((s) => COVERAGE_LEVEL_NAMES.map((l) => ({ label: `${l} · ${s}`, values: [result.base[s].latency[l].within10s, result.base[s].latency[l].within15s] }))), ['within 10 s', 'within 15 s'])}`);

  const curves = SESSION_STRATEGIES.flatMap((s) => COVERAGE_LEVEL_NAMES.map((l) => ({ label: `${l} · ${s}`, points: result.base[s].life[l].map((p) => [p.heartbeatS, p.lifeDays] as [number, number]) })));
  const axis = result.base.keepalive.life.normal.map((p) => p.heartbeatS);
  sections.push(`<h2>Battery life against heartbeat interval</h2>
<p>${result.usage.batteryMah} mAh, ${result.usage.pressesPerDay.toFixed(2)} alarm(s) a day (GNSS fix, positions while open), ${result.usage.selfTestsPerDay} self-test(s) a day (a short uplink). With keepalive, a heartbeat longer than the NAT timeout allows is topped up with PINGREQs: the curve flattens there.</p>
${lineChart(curves, { xLabel: 'heartbeat interval', yLabel: 'battery life (days)', xFormat: fmtDuration })}
${table(['heartbeat', ...curves.map((c) => c.label)], axis.map((hb, i) => [fmtDuration(hb), ...curves.map((c) => days(c.points[i]![1]))]))}
<h3>Range of the keepalive curves over every assumption's plausible range</h3>
${table(['heartbeat', ...COVERAGE_LEVEL_NAMES.map((l) => `${l}: base (lowest … highest)`)], axis.map((hb, i) => [fmtDuration(hb), ...COVERAGE_LEVEL_NAMES.map((l) => lifeBand(result, l, i))]))}`);

  sections.push(`<h2>What moves the answers</h2>
<p>Each assumption at the low and the high end of its range, the others at their base value (session kept alive). Bars: the answer at the low end (light) and the high end (dark) against the base (line); only the assumptions that move it.</p>
<div class="grid">${headlineMetrics(result).map((m) => tornadoChart(result, m)).join('')}</div>`);

  const depth = result.depth;
  sections.push(`<h2>How deep the targets hold</h2>
<p>${escapeHtml(depthSentence(result))} Presses at each coupling loss (session kept alive), with the level's outages and without them — the radio alone; the outages are an assumption of their own.</p>
${lineChart(
  [
    { label: 'within 10 s', points: depth.rows.map((r) => [r.couplingLossDb, r.within10s * 100] as [number, number]) },
    { label: 'within 15 s', points: depth.rows.map((r) => [r.couplingLossDb, r.within15s * 100] as [number, number]) },
    { label: 'within 10 s, radio alone', points: depth.rows.map((r) => [r.couplingLossDb, r.radioWithin10s * 100] as [number, number]) },
    { label: 'within 15 s, radio alone', points: depth.rows.map((r) => [r.couplingLossDb, r.radioWithin15s * 100] as [number, number]) },
  ],
  { xLabel: 'coupling loss (dB)', yLabel: 'presses answered (%)', xFormat: (v) => `${v}` },
)}
${table(['coupling loss', 'level', 'within 10 s', 'within 15 s', 'radio alone: within 10 s', 'within 15 s'], depth.rows.map((r) => [`${r.couplingLossDb} dB`, COVERAGE_LEVELS[r.level].label, pct(r.within10s), pct(r.within15s), pct(r.radioWithin10s), pct(r.radioWithin15s)].map(escapeHtml)))}`);

  const metrics = headlineMetrics(result);
  const assumptionRows = ASSUMPTIONS.map((a) => {
    const v = result.variations.find((x) => x.assumption.key === a.key)!;
    return [a.label, `${fmtNum(a.base)} ${a.unit}`, `${fmtNum(a.low)} … ${fmtNum(a.high)} ${a.unit}`, a.range, ...metrics.map((m) => `${m.format(m.value(v.low))} … ${m.format(m.value(v.high))}`)];
  });
  sections.push(`<h2>Assumptions and their ranges</h2>
${table(['assumption', 'base', 'range', 'why this range', ...metrics.map((m) => m.title)], assumptionRows.map((r) => r.map(escapeHtml)))}`);

  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>AMR 2.0 — sensitivity of the LTE-M model</title>
<style>
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:2em auto;max-width:1100px;color:#222;padding:0 1em}
h1{font-size:1.6em}h2{margin-top:1.8em;border-bottom:1px solid #ddd;padding-bottom:.2em}
table{border-collapse:collapse;margin:.6em 0;font-size:13px}td,th{border:1px solid #ddd;padding:.25em .6em;text-align:left}th{background:#f4f4f4}
.meta{color:#555}.grid{display:grid;grid-template-columns:repeat(2,1fr);gap:1em}svg{background:#fff;border:1px solid #e4e4e4}
svg text{font:11px system-ui,sans-serif;fill:#333}
</style></head><body>
${sections.join('\n')}
</body></html>
`;
}

function lifeBand(result: SensitivityResult, level: CoverageLevelName, i: number): string {
  const base = result.base.keepalive.life[level][i]!.lifeDays;
  const all = result.variations.flatMap((v) => [v.lifeLow[level][i]!.lifeDays, v.lifeHigh[level][i]!.lifeDays]);
  return `${days(base)} (${days(Math.min(base, ...all))} … ${days(Math.max(base, ...all))})`;
}

function fmtNum(v: number): string {
  return Number.isInteger(v) ? String(v) : v.toFixed(2);
}

/** Horizontal bars from the base value to the value at each end of every assumption's range. */
export function tornadoChart(result: SensitivityResult, metric: HeadlineMetric): string {
  const rows = ranked(result, metric.value).slice(0, 8);
  const base = metric.value(result.baseMetrics);
  const W = 540, L = 210, R = 16, T = 34, rowH = 22, B = 26;
  const H = T + Math.max(1, rows.length) * rowH + B;
  const values = [base, ...rows.flatMap((r) => [r.low, r.high])];
  const lo = Math.min(...values), hi = Math.max(...values);
  const pad = (hi - lo) * 0.05 || Math.abs(base) * 0.05 || 0.01;
  const labelW = 120; // the low … high figures at the right
  const x = (v: number) => L + ((v - (lo - pad)) / (hi - lo + 2 * pad)) * (W - L - R - labelW);
  const parts: string[] = [`<text x="8" y="16" font-weight="bold">${escapeHtml(metric.title)}</text>`, `<text x="8" y="29">base ${escapeHtml(metric.format(base))}</text>`];
  rows.forEach((r, i) => {
    const y = T + i * rowH;
    parts.push(`<text x="${L - 6}" y="${y + 14}" text-anchor="end">${escapeHtml(truncate(r.variation.assumption.label, 38))}</text>`);
    for (const [v, color, label] of [[r.low, '#9cc3e0', 'low'], [r.high, COLORS[0], 'high']] as const) {
      const x0 = Math.min(x(base), x(v)), w = Math.max(1, Math.abs(x(v) - x(base)));
      const half = label === 'low' ? 0 : 8;
      parts.push(`<rect x="${x0.toFixed(1)}" y="${y + 3 + half}" width="${w.toFixed(1)}" height="8" fill="${color}"><title>${escapeHtml(`${label} end: ${metric.format(v)}`)}</title></rect>`);
    }
    parts.push(`<text x="${W - R}" y="${y + 14}" text-anchor="end" fill="#666">${escapeHtml(`${metric.format(r.low)} … ${metric.format(r.high)}`)}</text>`);
  });
  if (rows.length === 0) parts.push(`<text x="${L}" y="${T + 14}" fill="#999">no assumption moves it</text>`);
  parts.push(`<line x1="${x(base).toFixed(1)}" y1="${T - 2}" x2="${x(base).toFixed(1)}" y2="${H - B + 4}" stroke="#b8222f"/>`);
  parts.push(`<text x="${x(lo).toFixed(1)}" y="${H - 8}" text-anchor="start">${escapeHtml(metric.format(lo))}</text><text x="${x(hi).toFixed(1)}" y="${H - 8}" text-anchor="end">${escapeHtml(metric.format(hi))}</text>`);
  return `<svg width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" role="img" aria-label="${escapeHtml(metric.title)}" data-chart="tornado-${metric.id}">${parts.join('')}</svg>`;
}

function truncate(text: string, n: number): string {
  return text.length > n ? `${text.slice(0, n - 1)}…` : text;
}
