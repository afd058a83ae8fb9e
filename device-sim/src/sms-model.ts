/**
 * The SMS path in the model (CONTRACT §6): a press with no `received` over MQTT after the fallback
 * wait also goes as an SMS over the control plane (SMS over NAS: no TCP, TLS or MQTT), through the
 * core network and the SMS centre to the gateway and the platform; the platform's `received` comes
 * back the same way and is paged to the button. The first `received` on either path is the one
 * the button plays. Pure and seeded, like press-model.ts; the live simulator uses the same
 * figures (sms-centre.ts for the network part, link.ts for the radio part).
 *
 *   SMS uplink   = wait for the radio (fallback wait, coverage, the press's own wake-up)
 *                + half a round trip + the text's airtime at the level's uplink rate
 *                [+ TC1* when the CP-DATA is lost on the radio]
 *   network      = core network + SMS centre + gateway, each way [+ the SMS centre's retry]
 *   SMS downlink = [paging + wake-up when the radio went idle] + half a round trip + airtime
 *
 * Sources and assumptions: docs/lte-m-model.md ("The SMS path").
 */
import { COVERAGE_LEVELS, COVERAGE_LEVEL_NAMES, PAGING_CYCLE_MS, REPRESENTATIVE_DB, airtimeMs, radioAt, type CoverageLevelName } from './coverage.js';
import { ENERGY_DEFAULTS, energyBudget, uplinkCharge, type EnergyParams } from './energy.js';
import { seededRandom, type Random } from './network.js';
import { PRESS_DEFAULTS, exchangeMs, pressTimeline, sessionSetupMs, trafficAt, type PressParams, type PressTimeline } from './press-model.js';
import { percentile } from './stats.js';

/** A uniform range, ms. */
export interface Range {
  min: number;
  max: number;
}

export interface SmsParams {
  /** The button sends the press by SMS when no `received` came over MQTT after this long, ms. */
  afterMs: number;
  /** …and sends the same text again after this long without `received`, ms (assumption). */
  retryMs: number;
  /** Bytes on the air for one text, CP/RP/TPDU headers included (a 160-character text is 140 octets): assumption. */
  upBytes: number;
  downBytes: number;
  /** Core network and SMS centre, each way (ETSI EMTEL: 1–2 s of storage in the SMS centre): ms. */
  networkMs: Range;
  /** The SMS gateway (an operator's or aggregator's HTTP API), each way, ms: assumption. */
  gatewayMs: Range;
  /** Share of texts the SMS centre does not deliver at the first attempt (ETSI EMTEL: 98 % first-attempt delivery to a fixed termination). */
  firstAttemptFailure: number;
  /** The SMS centre's next attempt after a failed one, ms: assumption. */
  smscRetryMs: number;
  /**
   * TC1*: a CP-DATA lost on the radio is sent again after this long, per level, ms. 3GPP TS 24.011
   * §10: 40 s more than the normal value in CE mode A and B; the normal value is an assumption.
   */
  tc1Ms: Record<CoverageLevelName, number>;
  /** Paging cycle per level (TS 36.304 DRX values; which level uses which is an assumption), ms. */
  pagingMs: Record<CoverageLevelName, number>;
  /** The radio goes idle after this long without traffic (the RRC inactivity timer), ms: assumption. */
  rrcInactivityMs: number;
}

export const SMS_DEFAULTS: Readonly<SmsParams> = Object.freeze({
  afterMs: 8000,
  retryMs: 30_000,
  upBytes: 180,
  downBytes: 180,
  networkMs: { min: 1500, max: 3000 },
  gatewayMs: { min: 200, max: 800 },
  firstAttemptFailure: 0.02,
  smscRetryMs: 30_000,
  tc1Ms: { normal: 20_000, 'ce-a': 60_000, 'ce-b': 60_000 },
  pagingMs: PAGING_CYCLE_MS,
  rrcInactivityMs: 10_000,
}) as SmsParams;

/** Where each SMS figure comes from (ids of docs/lte-m-model.md, "Sources"). */
export const SMS_SOURCES: Readonly<Record<keyof SmsParams, string>> = Object.freeze({
  afterMs: 'design choice (--sms-after)',
  retryMs: 'assumption',
  upBytes: 'assumption (140-octet user data of a 160-character GSM 7-bit text, TS 23.040, plus headers)',
  downBytes: 'assumption (as upBytes)',
  networkMs: 'ETSI EMTEL (ITU-T workshop 2006): 1–2 s in the SMS centre, mobile to a fixed termination under half of 6–8 s; the split is an assumption',
  gatewayMs: 'assumption',
  firstAttemptFailure: 'ETSI EMTEL: 98 % delivered at the first attempt to a fixed termination',
  smscRetryMs: 'assumption',
  tc1Ms: '3GPP TS 24.011 §10: +40 s in CE mode A/B; the normal 20 s is an assumption',
  pagingMs: 'TS 36.304 DRX cycles; the assignment to levels is an assumption (as the live profiles)',
  rrcInactivityMs: 'assumption (NTNU measured ~12 s)',
});

const uniform = (r: Range, random: Random) => r.min + random() * (r.max - r.min);

/** The network part of one text, one way: core + SMS centre (+ its retry) + gateway, ms. */
export function smsNetworkMs(sms: SmsParams, random: Random): number {
  const retry = random() < sms.firstAttemptFailure ? sms.smscRetryMs : 0;
  return uniform(sms.networkMs, random) + uniform(sms.gatewayMs, random) + retry;
}

/** One text over the radio, connected: half a round trip, jitter and the airtime [+ TC1* when lost], ms. */
export function smsRadioMs(db: number, level: CoverageLevelName, direction: 'up' | 'down', press: PressParams, sms: SmsParams, random: Random): number {
  const r = radioAt(db, press.radio);
  const air = airtimeMs(direction === 'up' ? sms.upBytes : sms.downBytes, direction === 'up' ? r.uplinkBps : r.downlinkBps);
  const lost = random() < r.loss ? sms.tc1Ms[level] : 0;
  return r.rttMs / 2 + (random() * r.rttMs) / 3 + air + lost;
}

/**
 * The SMS path of one press whose MQTT timeline is `tl`: undefined when `received` came over MQTT
 * within the fallback wait (no SMS is sent); else when the text left the button and when the
 * platform's `received` came back by SMS, ms from the press. The MQTT path woke the radio and
 * keeps it connected, so the SMS uplink pays no wake-up of its own; the answer pays paging and a
 * wake-up only when the radio went idle meanwhile. A coverage gap the MQTT press met (`tl.outages`)
 * holds the text and the answer too, and costs the radio a wake-up after it. (Gaps after the MQTT
 * `received` are not drawn: an SMS answer slower than MQTT is counted without them.)
 */
export function smsPath(
  db: number,
  level: CoverageLevelName,
  tl: PressTimeline,
  press: PressParams,
  sms: SmsParams,
  random: Random,
): { sentMs: number; ackedMs: number } | undefined {
  if (tl.receivedMs <= sms.afterMs) return undefined;
  const r = radioAt(db, press.radio);
  const wake = () => r.wakeMs * (0.7 + 0.6 * random());
  // a coverage gap the MQTT press met holds the text as well: it goes once coverage is back and
  // the radio, whose RRC connection went with the gap, is woken again (the button sends the press
  // again then too); the same for the answer that reaches the radio during one
  const outage = (t: number) => tl.outages?.find((o) => o.fromMs <= t && t < o.backMs);
  const sentMs = Math.max(sms.afterMs, tl.coveredMs, tl.awakeMs);
  const heldUp = outage(sentMs);
  let t = (heldUp ? heldUp.backMs + wake() : sentMs) + smsRadioMs(db, level, 'up', press, sms, random);
  const lastRadio = t;
  t += smsNetworkMs(sms, random) + press.platformMs + smsNetworkMs(sms, random);
  const heldDown = outage(t);
  if (heldDown) t = heldDown.backMs + wake();
  else if (t - lastRadio >= sms.rrcInactivityMs) t += random() * sms.pagingMs[level] + wake();
  t += smsRadioMs(db, level, 'down', press, sms, random);
  return { sentMs, ackedMs: t };
}

export interface PathShares {
  within10s: number;
  within15s: number;
}

export interface SmsLevelResult {
  level: CoverageLevelName;
  samples: number;
  /** Share of presses that also went by SMS. */
  fellBack: number;
  /** `received` over MQTT (the same presses without the SMS path). */
  mqtt: PathShares & { p50Ms: number };
  /** `received` by SMS (share of all presses). */
  sms: PathShares;
  /** The first `received` on either path. */
  both: PathShares & { p50Ms: number; p90Ms: number; p99Ms: number };
}

/**
 * `samples` presses per level (coupling loss uniform over the level), each over MQTT and, when it
 * falls back, by SMS. The MQTT path draws from `seed` exactly as press-model.ts levelLatencies
 * does, so its shares are the model's headline; the SMS path draws from a stream of its own.
 */
export function levelSmsLatencies(
  press: PressParams,
  sms: SmsParams,
  samples: number,
  seed: number,
  options: { deadSessionShare?: number } = {},
): Record<CoverageLevelName, SmsLevelResult> {
  const random = seededRandom(seed);
  const smsRandom = seededRandom(seed * 7919 + 17);
  const out = {} as Record<CoverageLevelName, SmsLevelResult>;
  for (const level of COVERAGE_LEVEL_NAMES) {
    const { min, max } = COVERAGE_LEVELS[level].couplingLossDb;
    const mqtt: number[] = [];
    const bySms: number[] = [];
    const both: number[] = [];
    let fellBack = 0;
    for (let i = 0; i < samples; i++) {
      const db = min + random() * (max - min);
      let tl = pressTimeline(db, press, level, random);
      if (options.deadSessionShare && smsRandom() < options.deadSessionShare) tl = deadSession(db, tl, press);
      const s = smsPath(db, level, tl, press, sms, smsRandom);
      mqtt.push(tl.receivedMs);
      if (s) {
        fellBack += 1;
        bySms.push(s.ackedMs);
      }
      both.push(Math.min(tl.receivedMs, s?.ackedMs ?? Infinity));
    }
    const share = (values: number[], ms: number) => values.filter((v) => v <= ms).length / samples;
    const shares = (values: number[]): PathShares => ({ within10s: share(values, 10_000), within15s: share(values, 15_000) });
    mqtt.sort((a, b) => a - b);
    both.sort((a, b) => a - b);
    out[level] = {
      level,
      samples,
      fellBack: fellBack / samples,
      mqtt: { ...shares(mqtt), p50Ms: percentile(mqtt, 50)! },
      sms: shares(bySms),
      both: { ...shares(both), p50Ms: percentile(both, 50)!, p90Ms: percentile(both, 90)!, p99Ms: percentile(both, 99)! },
    };
  }
  return out;
}

/**
 * The press found its MQTT session dead (the operator's NAT or the network dropped it unseen): the
 * button notices when the PUBACK does not come (DEAD_SESSION_DETECT_MS), sets the session up again
 * (TCP, TLS, MQTT) and publishes once more.
 */
export function deadSession(db: number, tl: PressTimeline, press: PressParams): PressTimeline {
  const r = radioAt(db, press.radio);
  return { ...tl, receivedMs: tl.awakeMs + DEAD_SESSION_DETECT_MS + sessionSetupMs(r, press) + exchangeMs(r, press.sizes) + press.platformMs };
}

/** How long the button waits for a PUBACK before it gives the session up (its retransmission period), ms: assumption. */
export const DEAD_SESSION_DETECT_MS = 5000;

/** Charge of the SMS fallback at one level, µA·s above sleep. */
export interface SmsCharge {
  /** The press's text: the radio is already connected (the MQTT attempt woke it): the exchange, a new RRC tail and active time. */
  uplinkUas: number;
  /** One answer by SMS: paging, a wake-up and the exchange, then its tail and active time (an upper bound when the radio is still connected). */
  downlinkUas: number;
}

export function smsCharge(level: CoverageLevelName, press: PressParams = PRESS_DEFAULTS, sms: SmsParams = SMS_DEFAULTS, energy: EnergyParams = ENERGY_DEFAULTS): SmsCharge {
  const r = radioAt(REPRESENTATIVE_DB[level], press.radio);
  const base = trafficAt(level, press);
  const exchange = (bytes: number, bps: number) => (r.rttMs + airtimeMs(bytes, bps)) / 1000;
  return {
    uplinkUas: uplinkCharge(energy, { ...base, wakeS: 0, exchangeS: exchange(sms.upBytes, r.uplinkBps) }, false),
    downlinkUas: uplinkCharge(energy, { ...base, exchangeS: exchange(sms.downBytes, r.downlinkBps) }, false),
  };
}

export interface SmsEnergy {
  level: CoverageLevelName;
  /** One fallback (the press's text and one `received` by SMS), µAh. */
  perFallbackUah: number;
  /** Battery life at the heartbeat, session kept alive, without and with the fallback's cost, days. */
  lifeDays: { without: number; with: number };
}

/**
 * The battery cost of the fallback at one level: each press that falls back (share `fellBack`)
 * costs one text up and one down on top of the MQTT press, which the energy model already counts.
 */
export function smsEnergy(
  level: CoverageLevelName,
  fellBack: number,
  usage: { batteryMah: number; pressesPerDay: number; selfTestsPerDay: number; heartbeatS: number },
  press: PressParams = PRESS_DEFAULTS,
  sms: SmsParams = SMS_DEFAULTS,
  energy: EnergyParams = ENERGY_DEFAULTS,
): SmsEnergy {
  const c = smsCharge(level, press, sms, energy);
  const perFallbackUas = c.uplinkUas + c.downlinkUas;
  const budget = energyBudget({ ...usage, session: 'keepalive' }, trafficAt(level, press), energy);
  const extraUa = (usage.pressesPerDay * fellBack * perFallbackUas) / 86_400;
  const life = (averageUa: number) => (usage.batteryMah * energy.usable * 1000) / averageUa / 24;
  return { level, perFallbackUah: perFallbackUas / 3600, lifeDays: { without: budget.lifeDays, with: life(budget.averageUa + extraUa) } };
}

/** The share of presses with a dead MQTT session in the report's illustration (no source). */
export const DEAD_SESSION_ILLUSTRATION = 0.05;

/** The fallback waits the report compares, ms. */
export const FALLBACK_WAITS_MS: readonly number[] = Object.freeze([0, 4000, 8000]);

export interface SmsModelSection {
  samples: number;
  seed: number;
  usage: { batteryMah: number; pressesPerDay: number; selfTestsPerDay: number };
  params: SmsParams;
  levels: Record<CoverageLevelName, SmsLevelResult & { energy: SmsEnergy }>;
  /** The first `received` on either path within 10 s / 15 s per fallback wait. */
  waits: Array<{ afterMs: number; levels: Record<CoverageLevelName, PathShares> }>;
  /**
   * Illustration, no source: the same with a share of presses that find the MQTT session dead
   * (within 10 s / 15 s without and with the SMS path).
   */
  deadSession: { share: number; levels: Record<CoverageLevelName, { without: PathShares; with: PathShares }> };
  /** The targets at the deepest level (CE mode B): ≥ 95 % within 10 s and ≥ 99 % within 15 s with the SMS path. */
  targets: Array<{ name: string; target: number; without: number; with: number; met: boolean }>;
}

/** The model's answer for the report: per level with and without the SMS path, its energy, the fallback wait, the targets. */
export function smsModelSection(
  options: { samples: number; seed: number; afterMs: number; usage: { batteryMah: number; pressesPerDay: number; selfTestsPerDay: number } },
  press: PressParams = PRESS_DEFAULTS,
  base: SmsParams = SMS_DEFAULTS,
): SmsModelSection {
  const sms = { ...base, afterMs: options.afterMs };
  const results = levelSmsLatencies(press, sms, options.samples, options.seed);
  const levels = {} as SmsModelSection['levels'];
  for (const level of COVERAGE_LEVEL_NAMES) {
    levels[level] = { ...results[level], energy: smsEnergy(level, results[level].fellBack, { ...options.usage, heartbeatS: 3600 }, press, sms) };
  }
  const waits = FALLBACK_WAITS_MS.map((afterMs) => {
    const r = levelSmsLatencies(press, { ...sms, afterMs }, options.samples, options.seed);
    return { afterMs, levels: Object.fromEntries(COVERAGE_LEVEL_NAMES.map((l) => [l, { within10s: r[l].both.within10s, within15s: r[l].both.within15s }])) as Record<CoverageLevelName, PathShares> };
  });
  const dead = levelSmsLatencies(press, sms, options.samples, options.seed, { deadSessionShare: DEAD_SESSION_ILLUSTRATION });
  const deadSessionPart = {
    share: DEAD_SESSION_ILLUSTRATION,
    levels: Object.fromEntries(
      COVERAGE_LEVEL_NAMES.map((l) => [l, { without: { within10s: dead[l].mqtt.within10s, within15s: dead[l].mqtt.within15s }, with: { within10s: dead[l].both.within10s, within15s: dead[l].both.within15s } }]),
    ) as SmsModelSection['deadSession']['levels'],
  };
  const deepest = levels['ce-b'];
  const targets = [
    { name: 'CE mode B: "received" within 10 s', target: 0.95, without: deepest.mqtt.within10s, with: deepest.both.within10s, met: deepest.both.within10s >= 0.95 },
    { name: 'CE mode B: "received" within 15 s', target: 0.99, without: deepest.mqtt.within15s, with: deepest.both.within15s, met: deepest.both.within15s >= 0.99 },
  ];
  return { samples: options.samples, seed: options.seed, usage: options.usage, params: sms, levels, waits, deadSession: deadSessionPart, targets };
}
