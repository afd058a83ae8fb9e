/**
 * LTE-M (Cat-M1) coverage as levels of coupling loss, and what the radio costs at a given
 * coupling loss: the wake-up from PSM, re-acquisition after an outage, attach, round trip, data
 * rates and loss. Pure functions of the coupling loss and a parameter set, so that the live
 * shaping link (network.ts, link.ts), the press model (press-model.ts) and the sensitivity
 * analysis (sensitivity.ts) all read the same figures. Sources: docs/lte-m-model.md.
 *
 * The figures are anchored at two published points and interpolated log-linearly in between:
 * the edge of normal coverage (144 dB) and the LTE-M maximum coupling loss (164 dB). A later SMS
 * path needs only what a level exposes here: the access time (`wakeMs`: sync, random access,
 * RRC setup, no TCP or TLS) and the uplink and downlink rates for a NAS message.
 */

export const COVERAGE_LEVEL_NAMES = ['normal', 'ce-a', 'ce-b'] as const;
export type CoverageLevelName = (typeof COVERAGE_LEVEL_NAMES)[number];

export interface CoverageLevel {
  name: CoverageLevelName;
  label: string;
  /** Coupling loss range of the level, dB (max inclusive). */
  couplingLossDb: { min: number; max: number };
}

/** Normal coverage up to 144 dB; CE mode A up to ~155 dB; CE mode B up to the 164 dB MCL. */
export const COVERAGE_LEVELS: Readonly<Record<CoverageLevelName, CoverageLevel>> = Object.freeze({
  normal: { name: 'normal', label: 'normal coverage (≤ 144 dB)', couplingLossDb: { min: 124, max: 144 } },
  'ce-a': { name: 'ce-a', label: 'CE mode A (144–155 dB)', couplingLossDb: { min: 144, max: 155 } },
  'ce-b': { name: 'ce-b', label: 'CE mode B (155–164 dB)', couplingLossDb: { min: 155, max: 164 } },
});

/** The coupling loss each level's battery figures and live profile are computed at, dB. */
export const REPRESENTATIVE_DB: Readonly<Record<CoverageLevelName, number>> = Object.freeze({ normal: 134, 'ce-a': 150, 'ce-b': 160 });

/**
 * The paging cycle per level (TS 36.304 DRX cycles; their assignment to levels is an assumption): a
 * downlink to an idle device waits for its next paging occasion, uniform 0…cycle, ms. The live
 * profiles, the press model and the SMS model all read it here.
 */
export const PAGING_CYCLE_MS: Readonly<Record<CoverageLevelName, number>> = Object.freeze({ normal: 2560, 'ce-a': 5120, 'ce-b': 10_240 });

/** Edge of normal coverage and the LTE-M maximum coupling loss, dB. */
export const NORMAL_EDGE_DB = 144;
export const MCL_DB = 164;

/** A figure at the edge of normal coverage and at the MCL, interpolated log-linearly in between. */
export interface Anchored {
  edge: number;
  mcl: number;
}

/**
 * The radio's parameters. Each is sourced or an assumption: see RADIO_SOURCES and
 * docs/lte-m-model.md; the sensitivity analysis varies the assumptions.
 */
export interface RadioParams {
  /** Exception report (sync + random access + a small uplink), ms. */
  reportMs: Anchored;
  /** Service request through the core network after the RRC setup, ms. */
  coreMs: number;
  /** Cell re-acquisition after an outage (cell search, sync, system information), ms. */
  reacquireMs: Anchored;
  /** Full attach (registration, default bearer), ms. */
  attachMs: Anchored;
  /** Round trip of a small packet while RRC-connected, ms. */
  rttMs: Anchored;
  /** Uplink and downlink application data rates, bit/s. */
  uplinkBps: Anchored;
  downlinkBps: Anchored;
  /** Probability that a segment is lost once (TCP retransmits it). */
  loss: Anchored;
}

export const RADIO_DEFAULTS: Readonly<RadioParams> = Object.freeze({
  reportMs: { edge: 100, mcl: 6200 },
  coreMs: 200,
  reacquireMs: { edge: 500, mcl: 5000 },
  attachMs: { edge: 6000, mcl: 30_000 },
  rttMs: { edge: 150, mcl: 2000 },
  uplinkBps: { edge: 100_000, mcl: 250 },
  downlinkBps: { edge: 300_000, mcl: 1400 },
  loss: { edge: 0.002, mcl: 0.03 },
});

/** Where each radio figure comes from (the ids are those of docs/lte-m-model.md, "Sources"). */
export const RADIO_SOURCES: Readonly<Record<keyof RadioParams, string>> = Object.freeze({
  reportMs: 'LTE-M 5G IoT evaluation white paper (2018): 0.1 s at 144 dB, 6.2 s at 164 dB',
  coreMs: 'assumption',
  reacquireMs: 'assumption',
  attachMs: 'edge: field report (Particle AN028, LTE-M wake from hibernate to connected ~6 s); MCL: assumption',
  rttMs: 'assumption',
  uplinkBps: 'MCL: LTE-M coverage white paper (2017), 250 bit/s uplink at 21 dB gain; edge: assumption',
  downlinkBps: 'MCL: LTE-M coverage white paper (2017), 1400 bit/s downlink at 21 dB gain; edge: assumption',
  loss: 'assumption',
});

/** `a` at the edge of normal coverage, `a.mcl` at 164 dB, log-linear in between, flat outside. */
export function atLoss(a: Anchored, couplingLossDb: number): number {
  const f = Math.min(1, Math.max(0, (couplingLossDb - NORMAL_EDGE_DB) / (MCL_DB - NORMAL_EDGE_DB)));
  return a.edge * (a.mcl / a.edge) ** f;
}

/** The radio at one coupling loss. */
export interface Radio {
  couplingLossDb: number;
  /** From PSM to ready to send: exception report + service request, ms. */
  wakeMs: number;
  reacquireMs: number;
  attachMs: number;
  rttMs: number;
  uplinkBps: number;
  downlinkBps: number;
  loss: number;
}

export function radioAt(couplingLossDb: number, p: RadioParams = RADIO_DEFAULTS): Radio {
  return {
    couplingLossDb,
    wakeMs: atLoss(p.reportMs, couplingLossDb) + p.coreMs,
    reacquireMs: atLoss(p.reacquireMs, couplingLossDb),
    attachMs: atLoss(p.attachMs, couplingLossDb),
    rttMs: atLoss(p.rttMs, couplingLossDb),
    uplinkBps: atLoss(p.uplinkBps, couplingLossDb),
    downlinkBps: atLoss(p.downlinkBps, couplingLossDb),
    loss: atLoss(p.loss, couplingLossDb),
  };
}

/** Time to carry `bytes` at `bps`, ms. */
export function airtimeMs(bytes: number, bps: number): number {
  return (bytes * 8 * 1000) / bps;
}

/** The level a coupling loss falls in. */
export function levelOf(couplingLossDb: number): CoverageLevelName {
  if (couplingLossDb <= COVERAGE_LEVELS.normal.couplingLossDb.max) return 'normal';
  if (couplingLossDb <= COVERAGE_LEVELS['ce-a'].couplingLossDb.max) return 'ce-a';
  return 'ce-b';
}

/**
 * RSRP a device reports at this coupling loss, dBm: the cell's reference signal power per
 * resource element (assumption: 46 dBm over 1200 subcarriers ≈ 15 dBm) minus the loss.
 */
export function rsrpAt(couplingLossDb: number): number {
  return Math.round(15 - couplingLossDb);
}
