/**
 * The press model: press → "received" on the device per coverage level, computed (Monte Carlo
 * over the level's coupling losses) from the same radio figures as the live shaping link, fast
 * enough for the sensitivity analysis to run it hundreds of times. A press starts from PSM:
 *
 *   [outage: rest of the gap + re-acquisition] + wake-up + [session set-up] + publish/ack
 *   + TCP retransmission timeouts for lost segments + the platform's time
 *
 * Sources and assumptions: docs/lte-m-model.md.
 */
import { COVERAGE_LEVELS, COVERAGE_LEVEL_NAMES, RADIO_DEFAULTS, REPRESENTATIVE_DB, airtimeMs, radioAt, type CoverageLevelName, type Radio, type RadioParams } from './coverage.js';
import type { SessionStrategy, Traffic } from './energy.js';
import type { Random } from './network.js';
import { percentile } from './stats.js';

/** Bytes on the air, IP and TCP headers included (assumptions from the message sizes of CONTRACT §3). */
export interface MessageSizes {
  pressUp: number;
  ackDown: number;
  /** TLS handshake (server certificate chain included), each way. */
  tlsUp: number;
  tlsDown: number;
  /** MQTT CONNECT and SUBSCRIBE up, CONNACK and SUBACK down. */
  connectUp: number;
  connectDown: number;
}

export interface PressParams {
  radio: RadioParams;
  session: SessionStrategy;
  /** TLS handshake round trips: 1 for TLS 1.3 (RFC 8446), 2 for TLS 1.2 (RFC 5246). */
  tlsRoundTrips: number;
  sizes: MessageSizes;
  /** The platform's share: press stored, routed and acked, ms (measured: docs/performance.md). */
  platformMs: number;
  /** Share of the time a device of each level is out of coverage, and the mean outage, s: assumptions. */
  outage: Record<CoverageLevelName, { share: number; meanS: number }>;
  /** Probability of a GNSS fix before the timeout at each level (indoors it often fails): assumption. */
  gnssFixProbability: Record<CoverageLevelName, number>;
}

export const PRESS_DEFAULTS: Readonly<PressParams> = Object.freeze({
  radio: RADIO_DEFAULTS,
  session: 'keepalive',
  tlsRoundTrips: 1,
  sizes: { pressUp: 120, ackDown: 100, tlsUp: 600, tlsDown: 3500, connectUp: 160, connectDown: 90 },
  platformMs: 20,
  outage: { normal: { share: 0, meanS: 8 }, 'ce-a': { share: 0.01, meanS: 8 }, 'ce-b': { share: 0.12, meanS: 8 } },
  gnssFixProbability: { normal: 0.9, 'ce-a': 0.5, 'ce-b': 0.2 },
}) as PressParams;

/** TCP handshake, TLS handshake and MQTT CONNECT/SUBSCRIBE over this radio, ms. */
export function sessionSetupMs(r: Radio, p: Pick<PressParams, 'tlsRoundTrips' | 'sizes'>): number {
  const { sizes } = p;
  return (2 + p.tlsRoundTrips) * r.rttMs + airtimeMs(sizes.tlsUp + sizes.connectUp, r.uplinkBps) + airtimeMs(sizes.tlsDown + sizes.connectDown, r.downlinkBps);
}

/** A small publish and its ack, ms. */
export function exchangeMs(r: Radio, sizes: MessageSizes): number {
  return r.rttMs + airtimeMs(sizes.pressUp, r.uplinkBps) + airtimeMs(sizes.ackDown, r.downlinkBps);
}

/** The radio times the energy model charges at one level (at its representative coupling loss). */
export function trafficAt(level: CoverageLevelName, p: PressParams = PRESS_DEFAULTS): Traffic {
  const r = radioAt(REPRESENTATIVE_DB[level], p.radio);
  return {
    wakeS: r.wakeMs / 1000,
    exchangeS: exchangeMs(r, p.sizes) / 1000,
    sessionSetupS: sessionSetupMs(r, p) / 1000,
    gnssFixProbability: p.gnssFixProbability[level],
  };
}

/** One press at coupling loss `db`, ms. */
export function pressLatency(db: number, p: PressParams, level: CoverageLevelName, random: Random): number {
  return pressTimeline(db, p, level, random).receivedMs;
}

/** One press over MQTT, with the moments another path on the same radio needs (ms from the press). */
export interface PressTimeline {
  /** Coverage is back and the cell re-acquired (0 when the press found coverage). */
  coveredMs: number;
  /** The radio is RRC-connected (the wake-up done). */
  awakeMs: number;
  /** `received` over MQTT on the device. */
  receivedMs: number;
}

/** One press at coupling loss `db`: when the radio could carry anything, and when MQTT brought `received`. */
export function pressTimeline(db: number, p: PressParams, level: CoverageLevelName, random: Random): PressTimeline {
  const r = radioAt(db, p.radio);
  const vary = (ms: number) => ms * (0.7 + 0.6 * random()); // ±30 %, as the live profiles
  let t = 0;
  const outage = p.outage[level];
  if (random() < outage.share) {
    const gapMs = vary(outage.meanS * 1000);
    t += random() * gapMs + vary(r.reacquireMs);
  }
  const coveredMs = t;
  t += vary(r.wakeMs);
  const awakeMs = t;
  let segments = 2;
  if (p.session === 'reconnect') {
    t += sessionSetupMs(r, p);
    segments += 4 + 2 * p.tlsRoundTrips;
  }
  t += exchangeMs(r, p.sizes) + (random() * r.rttMs) / 3;
  const rto = Math.max(1000, r.rttMs + (4 * r.rttMs) / 3); // RFC 6298, as network.ts
  for (let i = 0; i < segments; i++) {
    for (let k = 0, timeout = rto; k < 6 && random() < r.loss; k++, timeout *= 2) t += timeout;
  }
  return { coveredMs, awakeMs, receivedMs: t + p.platformMs };
}

export interface LevelLatency {
  level: CoverageLevelName;
  samples: number;
  within10s: number;
  within15s: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
}

/** `samples` presses per level, coupling loss uniform over the level's range. */
export function levelLatencies(p: PressParams, samples: number, random: Random): Record<CoverageLevelName, LevelLatency> {
  const out = {} as Record<CoverageLevelName, LevelLatency>;
  for (const level of COVERAGE_LEVEL_NAMES) {
    const { min, max } = COVERAGE_LEVELS[level].couplingLossDb;
    const values: number[] = [];
    for (let i = 0; i < samples; i++) values.push(pressLatency(min + random() * (max - min), p, level, random));
    values.sort((a, b) => a - b);
    const share = (ms: number) => values.filter((v) => v <= ms).length / values.length;
    out[level] = {
      level,
      samples,
      within10s: share(10_000),
      within15s: share(15_000),
      p50Ms: percentile(values, 50)!,
      p90Ms: percentile(values, 90)!,
      p99Ms: percentile(values, 99)!,
    };
  }
  return out;
}
