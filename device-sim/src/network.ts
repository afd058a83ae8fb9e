/**
 * The LTE-M network model: what a cellular link adds to a button's messages, per coverage
 * profile. Pure functions of a profile and a random source, so that they can be tested and
 * replayed (seeded). The shaping link (link.ts) applies them to real TCP sockets.
 *
 * Every figure is real time (milliseconds): the simulator does not compress the network, it
 * compresses the scenario (fewer devices, shorter runs, shorter heartbeat intervals).
 */
import { PAGING_CYCLE_MS, RADIO_DEFAULTS, REPRESENTATIVE_DB, airtimeMs, levelOf, radioAt, type CoverageLevelName, type RadioParams } from './coverage.js';

/** A coverage profile. Sources of the figures: docs/lte-m-model.md; derivation: profileAt. */
export interface NetworkProfile {
  name: ProfileName;
  description: string;
  /** The coverage level and the coupling loss (dB) the profile's figures are computed at. */
  level: CoverageLevelName;
  couplingLossDb: number;
  /** Network attach (registration, default bearer) after power-on or a long outage: mean ± spread (uniform), ms. */
  attachMs: { mean: number; spread: number };
  /** Round trip while RRC-connected, ms. */
  rttMs: number;
  /** Extra one-way delay, uniform 0…jitterMs. */
  jitterMs: number;
  /** Probability that a segment is lost once (shows up as a TCP retransmission timeout). */
  loss: number;
  /** Application data rates while connected, bit/s: a chunk also waits for its airtime. */
  uplinkBps: number;
  downlinkBps: number;
  /** First uplink after the radio went idle (PSM / eDRX): sync, random access, RRC setup, service request; mean ± spread, ms. */
  wakeMs: { mean: number; spread: number };
  /** Cell re-acquisition after a short outage, before the service request: mean ± spread, ms. */
  reacquireMs: { mean: number; spread: number };
  /** A downlink to an idle device waits for its next paging occasion: uniform 0…pagingMs. */
  pagingMs: number;
  /** The radio goes idle after this long without traffic (RRC inactivity timer), ms. */
  rrcInactivityMs: number;
  /**
   * An outage at least this long loses the session and the registration: the connection is cut
   * and the device attaches again. A shorter one keeps both (same PDN, same socket): traffic
   * waits for coverage, re-acquisition and a service request.
   */
  longOutageMs: number;
  /** Coverage gaps: none, or on average every `everyMs` one gap of `durationMs` mean ± spread. */
  gaps: { everyMs: number; durationMs: { mean: number; spread: number } } | null;
}

export const PROFILE_NAMES = ['good', 'urban-indoor', 'poor'] as const;
export type ProfileName = (typeof PROFILE_NAMES)[number];

/** Timers and gaps of the live profiles that the coverage level does not set (assumptions). */
export interface ProfileTimers {
  pagingMs: number;
  rrcInactivityMs: number;
  longOutageMs: number;
  gaps: NetworkProfile['gaps'];
}

/**
 * A live profile at one coupling loss: the radio figures of coverage.ts, a ±30 % spread on the
 * wake-up, re-acquisition and attach, jitter a third of the round trip (assumptions).
 */
export function profileAt(
  name: ProfileName,
  description: string,
  couplingLossDb: number,
  timers: ProfileTimers,
  params: RadioParams = RADIO_DEFAULTS,
): NetworkProfile {
  const r = radioAt(couplingLossDb, params);
  const spread = (ms: number) => ({ mean: Math.round(ms), spread: Math.round(ms * 0.3) });
  return {
    name,
    description,
    level: levelOf(couplingLossDb),
    couplingLossDb,
    attachMs: spread(r.attachMs),
    rttMs: Math.round(r.rttMs),
    jitterMs: Math.round(r.rttMs / 3),
    loss: Math.round(r.loss * 10_000) / 10_000,
    uplinkBps: Math.round(r.uplinkBps),
    downlinkBps: Math.round(r.downlinkBps),
    wakeMs: spread(r.wakeMs),
    reacquireMs: spread(r.reacquireMs),
    ...timers,
  };
}

const TIMERS = { rrcInactivityMs: 10_000, longOutageMs: 900_000 };

export const PROFILES: Readonly<Record<ProfileName, NetworkProfile>> = Object.freeze({
  good: profileAt('good', 'normal coverage: outdoors or near a window, coupling loss 134 dB', REPRESENTATIVE_DB.normal, { ...TIMERS, pagingMs: PAGING_CYCLE_MS.normal, gaps: null }),
  'urban-indoor': profileAt('urban-indoor', 'CE mode A: inside a city building, coupling loss 150 dB', REPRESENTATIVE_DB['ce-a'], { ...TIMERS, pagingMs: PAGING_CYCLE_MS['ce-a'], gaps: null }),
  poor: profileAt('poor', 'CE mode B: deep indoor (basement, stairwell), coupling loss 160 dB, with short coverage gaps', REPRESENTATIVE_DB['ce-b'], {
    ...TIMERS,
    pagingMs: PAGING_CYCLE_MS['ce-b'],
    gaps: { everyMs: 60_000, durationMs: { mean: 8000, spread: 4000 } },
  }),
});

export function isProfileName(value: string): value is ProfileName {
  return (PROFILE_NAMES as readonly string[]).includes(value);
}

/** A random source in [0, 1). */
export type Random = () => number;

/** mulberry32: a small seeded generator, so that a run can be repeated with --seed. */
export function seededRandom(seed: number): Random {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Uniform in mean ± spread, never below 0. */
export function spreadSample(value: { mean: number; spread: number }, random: Random): number {
  return Math.max(0, value.mean + (2 * random() - 1) * value.spread);
}

/** Time to attach to the network (before any TCP connection exists), ms. */
export function attachDelay(profile: NetworkProfile, random: Random): number {
  return spreadSample(profile.attachMs, random);
}

/**
 * TCP's retransmission timeout for this link (RFC 6298 §2: RTO = SRTT + 4·RTTVAR, at least
 * 1 s — Linux uses 200 ms as its floor; a cellular modem's stack is closer to the RFC), ms.
 */
export function retransmissionTimeout(profile: NetworkProfile): number {
  return Math.max(1000, profile.rttMs + 4 * profile.jitterMs);
}

/**
 * One-way delay of one segment on a connected radio, ms: half the round trip, jitter, the airtime
 * of its `bytes` at the direction's data rate, and for
 * each loss one retransmission timeout, doubled per further loss (RFC 6298 §5.5 back-off). TCP
 * never corrupts or drops bytes for the application: loss is only ever delay.
 */
export function segmentDelay(profile: NetworkProfile, random: Random, bytes = 0, direction: 'up' | 'down' = 'up'): number {
  let delay = profile.rttMs / 2 + random() * profile.jitterMs + airtimeMs(bytes, direction === 'up' ? profile.uplinkBps : profile.downlinkBps);
  let rto = retransmissionTimeout(profile);
  for (let attempt = 0; attempt < 6 && random() < profile.loss; attempt++) {
    delay += rto;
    rto *= 2;
  }
  return delay;
}

/**
 * Extra delay when the radio has been idle (no traffic for `rrcInactivityMs`): an uplink first
 * sets up an RRC connection (`wakeMs`: sync, random access, RRC setup, service request); a downlink
 * waits for the device's next paging occasion and then the same setup. 0 when connected.
 */
export function idleDelay(profile: NetworkProfile, direction: 'up' | 'down', idleForMs: number, random: Random): number {
  if (idleForMs < profile.rrcInactivityMs) return 0;
  const setup = spreadSample(profile.wakeMs, random);
  return direction === 'up' ? setup : random() * profile.pagingMs + setup;
}

/** A coverage gap: [startMs, endMs) from the start of a run. */
export interface Gap {
  startMs: number;
  endMs: number;
}

/**
 * The coverage gaps of one device over `durationMs` (exponential inter-arrival, mean `everyMs`).
 * Empty for a profile without gaps. The schedule is drawn from well before the start (a few
 * cycles of gap and coverage), so that the run begins at a random moment of the device's life:
 * a press at the start finds a gap as often as one later does (the share of time out of coverage,
 * as the press model assumes), and a gap may already be under way at 0 (its `startMs` < 0).
 */
export function gapSchedule(profile: NetworkProfile, durationMs: number, random: Random): Gap[] {
  if (!profile.gaps) return [];
  const gaps: Gap[] = [];
  let t = -GAP_WARM_UP_CYCLES * (profile.gaps.everyMs + profile.gaps.durationMs.mean);
  for (;;) {
    t += -Math.log(1 - random()) * profile.gaps.everyMs;
    if (t >= durationMs) return gaps;
    const length = spreadSample(profile.gaps.durationMs, random);
    if (t + length > 0) gaps.push({ startMs: t, endMs: t + length });
    t += length;
  }
}

/** Cycles of coverage and gap drawn before a run starts (gapSchedule): enough to forget the start. */
const GAP_WARM_UP_CYCLES = 5;

/** Time to re-acquire the cell after a short outage, ms. */
export function reacquireDelay(profile: NetworkProfile, random: Random): number {
  return spreadSample(profile.reacquireMs, random);
}

/** The gap covering time `t`, if any. */
export function gapAt(gaps: readonly Gap[], t: number): Gap | undefined {
  return gaps.find((g) => g.startMs <= t && t < g.endMs);
}
