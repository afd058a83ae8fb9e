import { describe, expect, it } from '@jest/globals';
import {
  PROFILES,
  attachDelay,
  gapAt,
  gapSchedule,
  idleDelay,
  retransmissionTimeout,
  seededRandom,
  segmentDelay,
  type NetworkProfile,
} from './network.js';

/** A random source that returns the given values in turn (then the last one forever). */
function sequence(...values: number[]): () => number {
  let i = 0;
  return () => values[Math.min(i++, values.length - 1)]!;
}

const lossless: NetworkProfile = { ...PROFILES['urban-indoor'], loss: 0, jitterMs: 200, rttMs: 500 };

describe('network model', () => {
  it('derives each profile from its coverage level: normal, CE mode A, CE mode B', () => {
    expect([PROFILES.good.level, PROFILES['urban-indoor'].level, PROFILES.poor.level]).toEqual(['normal', 'ce-a', 'ce-b']);
    // deeper coverage: slower wake-up, longer round trips, lower rates
    expect(PROFILES.good.wakeMs.mean).toBeLessThan(PROFILES['urban-indoor'].wakeMs.mean);
    expect(PROFILES['urban-indoor'].wakeMs.mean).toBeLessThan(PROFILES.poor.wakeMs.mean);
    expect(PROFILES.poor.rttMs).toBeGreaterThan(PROFILES.good.rttMs);
    expect(PROFILES.poor.uplinkBps).toBeLessThan(PROFILES.good.uplinkBps);
    // the evaluated exception report at 164 dB is 6.2 s: a CE mode B wake-up at 160 dB stays below it
    expect(PROFILES.poor.wakeMs.mean).toBeLessThan(6200 + 200);
  });

  it('adds the airtime of a chunk at the direction\'s data rate', () => {
    const slow: NetworkProfile = { ...lossless, jitterMs: 0, uplinkBps: 1000, downlinkBps: 8000 };
    expect(segmentDelay(slow, sequence(0, 0.99), 125, 'up')).toBeCloseTo(slow.rttMs / 2 + 1000);
    expect(segmentDelay(slow, sequence(0, 0.99), 125, 'down')).toBeCloseTo(slow.rttMs / 2 + 125);
  });

  it('delays a segment by half a round trip plus jitter when nothing is lost', () => {
    // jitter draw 0.5 → +100 ms of 200; loss draw 0.99 → not lost
    expect(segmentDelay(lossless, sequence(0.5, 0.99))).toBeCloseTo(250 + 100);
  });

  it('turns a loss into a retransmission timeout, doubled for each further loss (RFC 6298)', () => {
    const profile: NetworkProfile = { ...PROFILES.poor, loss: 0.5, rttMs: 1500, jitterMs: 600 };
    const rto = retransmissionTimeout(profile);
    expect(rto).toBe(1500 + 4 * 600);
    // jitter 0, lost (0.1 < 0.5), lost again, then delivered
    expect(segmentDelay(profile, sequence(0, 0.1, 0.1, 0.9))).toBeCloseTo(750 + rto + 2 * rto);
  });

  it('never lets the retransmission timeout drop below 1 s', () => {
    expect(retransmissionTimeout(PROFILES.good)).toBe(1000);
  });

  it('adds the wake-up only after the radio went idle, and paging only to a downlink', () => {
    const p = PROFILES['urban-indoor'];
    expect(idleDelay(p, 'up', p.rrcInactivityMs - 1, sequence(0.5))).toBe(0);
    expect(idleDelay(p, 'up', p.rrcInactivityMs, sequence(0.5))).toBeCloseTo(p.wakeMs.mean);
    expect(idleDelay(p, 'down', Infinity, sequence(0.5, 0.5))).toBeCloseTo(p.pagingMs / 2 + p.wakeMs.mean);
  });

  it('draws attach times within mean ± spread', () => {
    const random = seededRandom(42);
    const { mean, spread } = PROFILES.poor.attachMs;
    for (let i = 0; i < 200; i++) {
      const t = attachDelay(PROFILES.poor, random);
      expect(t).toBeGreaterThanOrEqual(mean - spread);
      expect(t).toBeLessThanOrEqual(mean + spread);
    }
  });

  it('schedules coverage gaps only for a profile that has them, reproducibly for a seed', () => {
    expect(gapSchedule(PROFILES.good, 3_600_000, seededRandom(1))).toEqual([]);
    const a = gapSchedule(PROFILES.poor, 3_600_000, seededRandom(7));
    expect(a).toEqual(gapSchedule(PROFILES.poor, 3_600_000, seededRandom(7)));
    // an hour with a gap every ~60 s: dozens, none overlapping, each 4–12 s
    expect(a.length).toBeGreaterThan(20);
    for (const [i, gap] of a.entries()) {
      expect(gap.endMs - gap.startMs).toBeGreaterThanOrEqual(4000);
      expect(gap.endMs - gap.startMs).toBeLessThanOrEqual(12_000);
      if (i > 0) expect(gap.startMs).toBeGreaterThanOrEqual(a[i - 1]!.endMs);
    }
    expect(gapAt(a, a[0]!.startMs)).toBe(a[0]);
    expect(gapAt(a, a[0]!.endMs)).not.toBe(a[0]);
  });

  it('starts a run at a random moment of the device\'s life: in a gap as often as later on', () => {
    // 8 ± 4 s out of coverage every ~60 s: 8 / 68 ≈ 12 % of the time, at the start of a run too
    // (a schedule that began covered at 0 would never find a press at 0 in a gap)
    const runs = 4000;
    let atStart = 0;
    let later = 0;
    for (let seed = 1; seed <= runs; seed++) {
      const gaps = gapSchedule(PROFILES.poor, 120_000, seededRandom(seed));
      if (gapAt(gaps, 0)) atStart += 1;
      if (gapAt(gaps, 100_000)) later += 1;
      for (const gap of gaps) expect(gap.endMs).toBeGreaterThan(0);
    }
    const share = 8000 / 68_000;
    expect(atStart / runs).toBeGreaterThan(share - 0.025);
    expect(atStart / runs).toBeLessThan(share + 0.025);
    expect(later / runs).toBeGreaterThan(share - 0.025);
    expect(later / runs).toBeLessThan(share + 0.025);
  });
});
