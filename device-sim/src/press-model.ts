/**
 * The press model: press → "received" on the device per coverage level, computed (Monte Carlo
 * over the level's coupling losses) from the same radio figures as the live shaping link, fast
 * enough for the sensitivity analysis to run it hundreds of times. A press starts from PSM:
 *
 *   [outage: rest of the gap + re-acquisition] + wake-up + [session set-up] + the press up
 *   + the platform's time + the ack down (each way half a round trip, jitter, airtime and TCP
 *   retransmission timeouts for a lost segment)
 *
 * Coverage gaps also begin while the press is under way (at random, as often as the share of time
 * out of coverage and the mean outage give): the RRC connection is lost with what was on the air.
 * Once coverage is back and the cell re-acquired, the device wakes the radio again for the press;
 * an ack that the gap caught waits for the radio — the device's own service request when it sends
 * the press again (every `retransmitMs` from the press), or paging, whichever comes first. The
 * live shaping link (link.ts) does the same to real sockets.
 *
 * Sources and assumptions: docs/lte-m-model.md.
 */
import { COVERAGE_LEVELS, COVERAGE_LEVEL_NAMES, PAGING_CYCLE_MS, RADIO_DEFAULTS, REPRESENTATIVE_DB, airtimeMs, radioAt, type CoverageLevelName, type Radio, type RadioParams } from './coverage.js';
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
  /**
   * Share of the time a device of each level is out of coverage, and the mean outage, s:
   * assumptions. Outages begin at random while covered, on average every meanS·(1 − share)/share s
   * (CE mode B: 8 s every ~59 s; the live `poor` profile: 8 ± 4 s every ~60 s).
   */
  outage: Record<CoverageLevelName, { share: number; meanS: number }>;
  /** The button sends an unanswered press again this often, ms (its `--retransmit-ms`); 0: never. */
  retransmitMs: number;
  /** Paging cycle per level: a downlink to an idle device waits for its next paging occasion, uniform 0…cycle, ms. */
  pagingMs: Record<CoverageLevelName, number>;
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
  retransmitMs: 5000,
  pagingMs: PAGING_CYCLE_MS,
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
  /**
   * The coverage gaps the press met until then: from the gap's start (0 for one it was pressed in)
   * until coverage is back and the cell re-acquired. Any other traffic of the device's radio in
   * that time (a fallback SMS) waits as well.
   */
  outages?: Array<{ fromMs: number; backMs: number }>;
}

/** One press at coupling loss `db`: when the radio could carry anything, and when MQTT brought `received`. */
export function pressTimeline(db: number, p: PressParams, level: CoverageLevelName, random: Random): PressTimeline {
  const r = radioAt(db, p.radio);
  const vary = (ms: number) => ms * (0.7 + 0.6 * random()); // ±30 %, as the live profiles
  const outage = p.outage[level];
  // outages begin at random while covered (exponential gaps between them), so that the share of
  // time out of coverage is `share`
  const everyMs = outage.share > 0 ? (outage.meanS * 1000 * (1 - outage.share)) / outage.share : Infinity;
  const nextGap = (from: number) => (everyMs === Infinity ? Infinity : from - Math.log(1 - random()) * everyMs);
  let gapAt: number;
  const outages: Array<{ fromMs: number; backMs: number }> = [];
  /** A gap began at `g`: when coverage is back and the cell re-acquired; the next gap is drawn from its end. */
  const afterGap = (g: number): number => {
    const end = g + vary(outage.meanS * 1000);
    gapAt = nextGap(end);
    const back = end + vary(r.reacquireMs);
    outages.push({ fromMs: g, backMs: back });
    return back;
  };
  let t = 0;
  if (random() < outage.share) {
    // pressed during a gap: the rest of it, then re-acquisition
    const end = random() * vary(outage.meanS * 1000);
    gapAt = nextGap(end);
    t = end + vary(r.reacquireMs);
    outages.push({ fromMs: 0, backMs: t });
  } else gapAt = nextGap(0);
  const coveredMs = t;

  const rto = Math.max(1000, r.rttMs + (4 * r.rttMs) / 3); // RFC 6298, as network.ts
  const lost = (): number => {
    let ms = 0;
    for (let k = 0, timeout = rto; k < 6 && random() < r.loss; k++, timeout *= 2) ms += timeout;
    return ms;
  };
  /** One way over the connected radio, as the live link's segmentDelay: half a round trip, jitter, airtime, losses. */
  const transit = (bytes: number, bps: number): number => r.rttMs / 2 + (random() * r.rttMs) / 3 + airtimeMs(bytes, bps) + lost();

  // the device wakes the radio [and sets the session up] and sends the press; a gap before it is
  // through loses the RRC connection: once coverage is back and the cell re-acquired, the device
  // wakes the radio again and goes on — the set-up where it was, the press (one segment) again
  let setupLeft = 0;
  if (p.session === 'reconnect') {
    setupLeft = sessionSetupMs(r, p);
    for (let i = 0; i < 4 + 2 * p.tlsRoundTrips; i++) setupLeft += lost();
  }
  const pressMs = transit(p.sizes.pressUp, r.uplinkBps);
  let awakeMs: number | undefined;
  for (;;) {
    const awake = t + vary(r.wakeMs);
    if (gapAt >= awake) awakeMs ??= awake;
    const sent = awake + setupLeft + pressMs;
    if (gapAt >= sent) {
      t = sent;
      break;
    }
    if (gapAt > awake) setupLeft = Math.max(0, setupLeft - (gapAt - awake));
    t = Math.max(t, afterGap(gapAt));
  }

  // the platform answers; the ack comes down while the radio is connected — unless a gap catches
  // it: then it waits until the device sends the press again (service request) or is paged
  const ackMs = transit(p.sizes.ackDown, r.downlinkBps);
  let from = t + p.platformMs;
  for (;;) {
    const receivedMs = from + ackMs;
    if (gapAt >= receivedMs) return { coveredMs, awakeMs: awakeMs!, receivedMs, outages };
    // (a gap that begins while the ack waits for the radio starts that wait over after it, as in the live link)
    const caught = gapAt;
    const back = afterGap(caught);
    const resend = p.retransmitMs > 0 ? Math.max(back, Math.ceil(caught / p.retransmitMs) * p.retransmitMs) : Infinity;
    const own = resend + vary(r.wakeMs);
    const paged = back + random() * p.pagingMs[level] + vary(r.wakeMs);
    from = Math.min(own, paged);
  }
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
