/**
 * The LTE-M network model: what a cellular link adds to a button's messages, per coverage
 * profile. Pure functions of a profile and a random source, so that they can be tested and
 * replayed (seeded). The shaping link (link.ts) applies them to real TCP sockets.
 *
 * Every figure is real time (milliseconds): the simulator does not compress the network, it
 * compresses the scenario (fewer devices, shorter runs, shorter heartbeat intervals).
 */

/** A coverage profile. Sources of the figures: device-sim/README.md "Network profiles". */
export interface NetworkProfile {
  name: ProfileName;
  description: string;
  /** Network attach (registration + PDN + TCP/MQTT connect) after power-on or a coverage loss: mean ± spread (uniform), ms. */
  attachMs: { mean: number; spread: number };
  /** Round trip while RRC-connected, ms. */
  rttMs: number;
  /** Extra one-way delay, uniform 0…jitterMs. */
  jitterMs: number;
  /** Probability that a segment is lost once (shows up as a TCP retransmission timeout). */
  loss: number;
  /** First uplink after the radio went idle (PSM / eDRX): RRC connection setup, mean ± spread, ms. */
  wakeMs: { mean: number; spread: number };
  /** A downlink to an idle device waits for its next paging occasion: uniform 0…pagingMs. */
  pagingMs: number;
  /** The radio goes idle after this long without traffic (RRC inactivity timer), ms. */
  rrcInactivityMs: number;
  /** Coverage gaps: none, or on average every `everyMs` one gap of `durationMs` mean ± spread. */
  gaps: { everyMs: number; durationMs: { mean: number; spread: number } } | null;
}

export const PROFILE_NAMES = ['good', 'urban-indoor', 'poor'] as const;
export type ProfileName = (typeof PROFILE_NAMES)[number];

export const PROFILES: Readonly<Record<ProfileName, NetworkProfile>> = Object.freeze({
  good: {
    name: 'good',
    description: 'outdoors or near a window, RSRP > −100 dBm, CE mode A without repetitions',
    attachMs: { mean: 2000, spread: 500 },
    rttMs: 150,
    jitterMs: 50,
    loss: 0.002,
    wakeMs: { mean: 1000, spread: 300 },
    pagingMs: 2560,
    rrcInactivityMs: 10_000,
    gaps: null,
  },
  'urban-indoor': {
    name: 'urban-indoor',
    description: 'inside a city building, RSRP −100…−115 dBm, CE mode A with some repetitions',
    attachMs: { mean: 5000, spread: 2000 },
    rttMs: 500,
    jitterMs: 200,
    loss: 0.01,
    wakeMs: { mean: 3000, spread: 1000 },
    pagingMs: 5120,
    rrcInactivityMs: 10_000,
    gaps: null,
  },
  poor: {
    name: 'poor',
    description: 'deep indoor (basement, stairwell), RSRP < −120 dBm, CE mode B (coverage extension, many repetitions)',
    attachMs: { mean: 12_500, spread: 2500 },
    rttMs: 1500,
    jitterMs: 600,
    loss: 0.03,
    wakeMs: { mean: 5000, spread: 1500 },
    pagingMs: 10_240,
    rrcInactivityMs: 10_000,
    gaps: { everyMs: 60_000, durationMs: { mean: 8000, spread: 4000 } },
  },
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
 * One-way delay of one segment on a connected radio, ms: half the round trip, jitter, and for
 * each loss one retransmission timeout, doubled per further loss (RFC 6298 §5.5 back-off). TCP
 * never corrupts or drops bytes for the application: loss is only ever delay.
 */
export function segmentDelay(profile: NetworkProfile, random: Random): number {
  let delay = profile.rttMs / 2 + random() * profile.jitterMs;
  let rto = retransmissionTimeout(profile);
  for (let attempt = 0; attempt < 6 && random() < profile.loss; attempt++) {
    delay += rto;
    rto *= 2;
  }
  return delay;
}

/**
 * Extra delay when the radio has been idle (no traffic for `rrcInactivityMs`): an uplink first
 * sets up an RRC connection (`wakeMs`, the "≥ 3 s from idle" of field reports); a downlink
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
 * Empty for a profile without gaps.
 */
export function gapSchedule(profile: NetworkProfile, durationMs: number, random: Random): Gap[] {
  if (!profile.gaps) return [];
  const gaps: Gap[] = [];
  let t = 0;
  for (;;) {
    t += -Math.log(1 - random()) * profile.gaps.everyMs;
    if (t >= durationMs) return gaps;
    const length = spreadSample(profile.gaps.durationMs, random);
    gaps.push({ startMs: t, endMs: t + length });
    t += length;
  }
}

/** The gap covering time `t`, if any. */
export function gapAt(gaps: readonly Gap[], t: number): Gap | undefined {
  return gaps.find((g) => g.startMs <= t && t < g.endMs);
}
