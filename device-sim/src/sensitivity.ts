/**
 * The sensitivity analysis: every assumption of the model (docs/lte-m-model.md) is moved, one at
 * a time, to the low and the high end of its plausible range, and the headline answers are
 * computed again: the share of presses acked "received" within 10 s and 15 s per coverage level,
 * and the battery life per heartbeat interval. Pure and seeded: the same seed gives the same
 * figures.
 */
import { COVERAGE_LEVEL_NAMES, MCL_DB, NORMAL_EDGE_DB, levelOf, type CoverageLevelName, type RadioParams } from './coverage.js';
import { ENERGY_DEFAULTS, HEARTBEAT_AXIS_S, lifeCurve, type EnergyParams, type LifePoint, type SessionStrategy } from './energy.js';
import { seededRandom } from './network.js';
import { PRESS_DEFAULTS, levelLatencies, pressLatency, trafficAt, type LevelLatency, type PressParams } from './press-model.js';

export interface ModelConfig {
  press: PressParams;
  energy: EnergyParams;
  usage: { batteryMah: number; pressesPerDay: number; selfTestsPerDay: number };
}

export const MODEL_DEFAULTS: Readonly<ModelConfig> = Object.freeze({
  press: PRESS_DEFAULTS,
  energy: ENERGY_DEFAULTS,
  usage: { batteryMah: 1000, pressesPerDay: 1 / 7, selfTestsPerDay: 1 },
});

/** The heartbeat interval the battery headline (and its sensitivity) is given at, s. */
export const HEADLINE_HEARTBEAT_S = 3600;

export interface Headline {
  latency: Record<CoverageLevelName, LevelLatency>;
  /** Battery life per level, session kept alive, at each heartbeat of HEARTBEAT_AXIS_S. */
  life: Record<CoverageLevelName, LifePoint[]>;
}

export function headline(config: ModelConfig, samples: number, seed: number, session: SessionStrategy = config.press.session): Headline {
  const press = { ...config.press, session };
  const latency = levelLatencies(press, samples, seededRandom(seed));
  const life = {} as Record<CoverageLevelName, LifePoint[]>;
  for (const level of COVERAGE_LEVEL_NAMES) {
    life[level] = lifeCurve(HEARTBEAT_AXIS_S, { ...config.usage, session }, trafficAt(level, press), config.energy);
  }
  return { latency, life };
}

/** One assumption and its plausible range. */
export interface Assumption {
  key: string;
  label: string;
  unit: string;
  base: number;
  low: number;
  high: number;
  /** Why this range (a source for the ends where there is one). */
  range: string;
  apply(config: ModelConfig, value: number): ModelConfig;
}

const radio = (c: ModelConfig, patch: Partial<RadioParams>): ModelConfig => ({ ...c, press: { ...c.press, radio: { ...c.press.radio, ...patch } } });
const energy = (c: ModelConfig, patch: Partial<EnergyParams>): ModelConfig => ({ ...c, energy: { ...c.energy, ...patch } });
const scaled = (a: { edge: number; mcl: number }, f: number) => ({ edge: a.edge * f, mcl: a.mcl * f });

const R = PRESS_DEFAULTS.radio;
const E = ENERGY_DEFAULTS;

export const ASSUMPTIONS: readonly Assumption[] = [
  { key: 'core', label: 'service request through the core', unit: 'ms', base: R.coreMs, low: 50, high: 1000, range: 'a few tens of ms in a core close by; 1 s for a roaming or congested core', apply: (c, v) => radio(c, { coreMs: v }) },
  { key: 'report-mcl', label: 'exception report at 164 dB (sourced: 6.2 s)', unit: 's', base: R.reportMs.mcl / 1000, low: 3, high: 12, range: 'half to twice the white paper figure: other network configurations, repetitions', apply: (c, v) => radio(c, { reportMs: { ...c.press.radio.reportMs, mcl: v * 1000 } }) },
  { key: 'rtt', label: 'round trip (× default 150 ms … 2 s)', unit: '×', base: 1, low: 0.5, high: 2, range: 'halved to doubled at every coupling loss', apply: (c, v) => radio(c, { rttMs: scaled(c.press.radio.rttMs, v) }) },
  { key: 'rates', label: 'data rates at the normal-coverage edge (× 100/300 kbit/s)', unit: '×', base: 1, low: 0.2, high: 3, range: 'a loaded cell to a quiet one; the 164 dB rates stay sourced', apply: (c, v) => radio(c, { uplinkBps: { ...c.press.radio.uplinkBps, edge: c.press.radio.uplinkBps.edge * v }, downlinkBps: { ...c.press.radio.downlinkBps, edge: c.press.radio.downlinkBps.edge * v } }) },
  { key: 'loss', label: 'segment loss (× 0.2 % … 3 %)', unit: '×', base: 1, low: 0.3, high: 3, range: 'a third to three times', apply: (c, v) => radio(c, { loss: scaled(c.press.radio.loss, v) }) },
  { key: 'reacquire', label: 're-acquisition after an outage (× 0.5 … 5 s)', unit: '×', base: 1, low: 0.4, high: 3, range: 'stored cell found at once, to a full band scan', apply: (c, v) => radio(c, { reacquireMs: scaled(c.press.radio.reacquireMs, v) }) },
  { key: 'outage-share', label: 'time out of coverage in CE mode B', unit: '%', base: PRESS_DEFAULTS.outage['ce-b'].share * 100, low: 1, high: 25, range: 'no field logs yet: from rare to one quarter of the time', apply: (c, v) => ({ ...c, press: { ...c.press, outage: { ...c.press.outage, 'ce-b': { ...c.press.outage['ce-b'], share: v / 100 } } } }) },
  { key: 'outage-length', label: 'mean outage length', unit: 's', base: PRESS_DEFAULTS.outage['ce-b'].meanS, low: 3, high: 30, range: 'a door closing to a lift ride or an underground passage', apply: (c, v) => ({ ...c, press: { ...c.press, outage: Object.fromEntries(COVERAGE_LEVEL_NAMES.map((l) => [l, { ...c.press.outage[l], meanS: v }])) as PressParams['outage'] } }) },
  { key: 'platform', label: "platform's share of the press", unit: 'ms', base: PRESS_DEFAULTS.platformMs, low: 10, high: 1000, range: 'measured p50 to a saturated node (docs/performance.md)', apply: (c, v) => ({ ...c, press: { ...c.press, platformMs: v } }) },
  { key: 'nat', label: 'operator NAT timeout for idle TCP', unit: 's', base: E.natTimeoutS, low: 270, high: 21_600, range: 'published: 270 s (a French operator) to 6 h (Twilio Super SIM)', apply: (c, v) => energy(c, { natTimeoutS: v }) },
  { key: 'tail', label: 'current in the RRC tail', unit: 'mA', base: E.tailMa, low: 1, high: 20, range: 'connected DRX with long cycles to short ones', apply: (c, v) => energy(c, { tailMa: v }) },
  { key: 'inactivity', label: 'RRC inactivity timer', unit: 's', base: E.rrcInactivityS, low: 5, high: 20, range: 'network setting; 10–12 s reported', apply: (c, v) => energy(c, { rrcInactivityS: v }) },
  { key: 'active-time', label: 'active time before PSM (T3324)', unit: 's', base: E.activeTimeS, low: 6, high: 60, range: 'Nordic template request (6 s) to a minute for downlink acks', apply: (c, v) => energy(c, { activeTimeS: v }) },
  { key: 'presses', label: 'presses that open an alarm', unit: '/day', base: MODEL_DEFAULTS.usage.pressesPerDay, low: 1 / 90, high: 1, range: 'one a quarter to one a day', apply: (c, v) => ({ ...c, usage: { ...c.usage, pressesPerDay: v } }) },
  { key: 'self-tests', label: 'self-tests', unit: '/day', base: MODEL_DEFAULTS.usage.selfTestsPerDay, low: 0, high: 4, range: 'none to four a day', apply: (c, v) => ({ ...c, usage: { ...c.usage, selfTestsPerDay: v } }) },
  { key: 'alarm-open', label: 'alarm open (tracked)', unit: 'min', base: E.alarmOpenS / 60, low: 5, high: 60, range: 'a false alarm closed at once to a long intervention', apply: (c, v) => energy(c, { alarmOpenS: v * 60 }) },
  { key: 'gnss-fix', label: 'GNSS fix probability (× 90/50/20 %)', unit: '×', base: 1, low: 0, high: 1.1, range: 'never indoors to nearly always', apply: (c, v) => ({ ...c, press: { ...c.press, gnssFixProbability: Object.fromEntries(COVERAGE_LEVEL_NAMES.map((l) => [l, Math.min(1, PRESS_DEFAULTS.gnssFixProbability[l] * v)])) as PressParams['gnssFixProbability'] } }) },
  { key: 'gnss-timeout', label: 'GNSS timeout', unit: 's', base: E.gnssTimeoutS, low: 60, high: 300, range: 'one minute to a cold start outdoors', apply: (c, v) => energy(c, { gnssTimeoutS: v }) },
  { key: 'usable', label: 'usable share of the capacity', unit: '%', base: E.usable * 100, low: 60, high: 90, range: 'cold and ageing to a fresh cell at room temperature', apply: (c, v) => energy(c, { usable: v / 100 }) },
];

/** The headline figures one variation is judged by. */
export interface Metrics {
  within10s: Record<CoverageLevelName, number>;
  within15s: Record<CoverageLevelName, number>;
  /** Battery life at HEADLINE_HEARTBEAT_S, days. */
  lifeDays: Record<CoverageLevelName, number>;
}

export function metricsOf(h: Headline): Metrics {
  const per = <T>(f: (l: CoverageLevelName) => T) => Object.fromEntries(COVERAGE_LEVEL_NAMES.map((l) => [l, f(l)])) as Record<CoverageLevelName, T>;
  return {
    within10s: per((l) => h.latency[l].within10s),
    within15s: per((l) => h.latency[l].within15s),
    lifeDays: per((l) => h.life[l].find((p) => p.heartbeatS === HEADLINE_HEARTBEAT_S)!.lifeDays),
  };
}

export interface Variation {
  assumption: Omit<Assumption, 'apply'>;
  low: Metrics;
  high: Metrics;
  /** Battery life per heartbeat interval per level at each end. */
  lifeLow: Record<CoverageLevelName, LifePoint[]>;
  lifeHigh: Record<CoverageLevelName, LifePoint[]>;
}

export interface SensitivityResult {
  samples: number;
  seed: number;
  headlineHeartbeatS: number;
  usage: ModelConfig['usage'];
  /** The base model with each session strategy. */
  base: Record<SessionStrategy, Headline>;
  baseMetrics: Metrics;
  variations: Variation[];
  depth: Depth;
}

/** The base model (both session strategies) and every assumption at each end of its range. */
export function runSensitivity(samples: number, seed: number, config: ModelConfig = MODEL_DEFAULTS): SensitivityResult {
  const base = { keepalive: headline(config, samples, seed, 'keepalive'), reconnect: headline(config, samples, seed, 'reconnect') };
  const variations = ASSUMPTIONS.map(({ apply, ...assumption }) => {
    const low = headline(apply(config, assumption.low), samples, seed);
    const high = headline(apply(config, assumption.high), samples, seed);
    return { assumption, low: metricsOf(low), high: metricsOf(high), lifeLow: low.life, lifeHigh: high.life };
  });
  return {
    samples, seed, headlineHeartbeatS: HEADLINE_HEARTBEAT_S, usage: config.usage, base, baseMetrics: metricsOf(base[config.press.session]), variations,
    depth: depthSweep(config.press, samples, seed),
  };
}

/** The service targets the depth sweep checks: share of presses with `received` within 10 s and 15 s. */
export const DEPTH_TARGETS = Object.freeze({ within10s: 0.95, within15s: 0.99 });

export interface DepthRow {
  couplingLossDb: number;
  level: CoverageLevelName;
  /** Shares of presses answered within 10 s and 15 s, as modelled … */
  within10s: number;
  within15s: number;
  /** … and by the radio alone: the same level without its outages. */
  radioWithin10s: number;
  radioWithin15s: number;
}

export interface Depth {
  rows: DepthRow[];
  /** The deepest coupling loss at which both targets hold (and every shallower one), or null. */
  deepestMet: number | null;
  deepestMetByRadio: number | null;
}

/**
 * How deep the targets hold: presses at each whole dB from the edge of normal coverage to the MCL,
 * with the level's outages and without them (what the radio alone gives; the outages are an
 * assumption of their own, docs/lte-m-model.md).
 */
export function depthSweep(press: PressParams, samples: number, seed: number): Depth {
  const random = seededRandom(seed);
  const shares = (db: number, level: CoverageLevelName, p: PressParams): [number, number] => {
    let w10 = 0;
    let w15 = 0;
    for (let i = 0; i < samples; i++) {
      const ms = pressLatency(db, p, level, random);
      if (ms <= 10_000) w10 += 1;
      if (ms <= 15_000) w15 += 1;
    }
    return [w10 / samples, w15 / samples];
  };
  const rows: DepthRow[] = [];
  for (let db = NORMAL_EDGE_DB; db <= MCL_DB; db += 1) {
    const level = levelOf(db);
    const withoutOutages = { ...press, outage: { ...press.outage, [level]: { ...press.outage[level], share: 0 } } };
    const [within10s, within15s] = shares(db, level, press);
    const [radioWithin10s, radioWithin15s] = shares(db, level, withoutOutages);
    rows.push({ couplingLossDb: db, level, within10s, within15s, radioWithin10s, radioWithin15s });
  }
  const deepest = (met: (r: DepthRow) => boolean): number | null => {
    const first = rows.findIndex((r) => !met(r));
    return first === 0 ? null : rows[(first === -1 ? rows.length : first) - 1]!.couplingLossDb;
  };
  return {
    rows,
    deepestMet: deepest((r) => r.within10s >= DEPTH_TARGETS.within10s && r.within15s >= DEPTH_TARGETS.within15s),
    deepestMetByRadio: deepest((r) => r.radioWithin10s >= DEPTH_TARGETS.within10s && r.radioWithin15s >= DEPTH_TARGETS.within15s),
  };
}

/** The variations that move a metric, largest swing first. */
export function ranked(result: SensitivityResult, metric: (m: Metrics) => number): Array<{ variation: Variation; low: number; high: number; swing: number }> {
  return result.variations
    .map((variation) => {
      const low = metric(variation.low);
      const high = metric(variation.high);
      const base = metric(result.baseMetrics);
      return { variation, low, high, swing: Math.max(Math.abs(low - base), Math.abs(high - base)) };
    })
    .filter((r) => r.swing > 1e-9)
    .sort((a, b) => b.swing - a.swing);
}
