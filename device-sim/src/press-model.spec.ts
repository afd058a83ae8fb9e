import { describe, expect, it } from '@jest/globals';
import { seededRandom } from './network.js';
import { PRESS_DEFAULTS, pressTimeline, type PressParams } from './press-model.js';

/** Share of `n` presses at 160 dB (the live `poor` profile) whose `received` came later than `ms`. */
function slowerThan(p: PressParams, ms: number, n = 4000, seed = 1): number {
  const random = seededRandom(seed);
  let slow = 0;
  for (let i = 0; i < n; i++) if (pressTimeline(160, p, 'ce-b', random).receivedMs > ms) slow += 1;
  return slow / n;
}

const gapless: PressParams = { ...PRESS_DEFAULTS, outage: { ...PRESS_DEFAULTS.outage, 'ce-b': { share: 0, meanS: 8 } } };

describe('press model: coverage gaps', () => {
  it('without gaps, a CE mode B press at 160 dB is answered within 10 s', () => {
    expect(slowerThan(gapless, 10_000)).toBeLessThan(0.005);
  });

  it('delays presses that a gap catches under way, not only those pressed during one', () => {
    // 12 % of presses start in a gap (most of them then take more than 10 s); a gap that begins
    // during the ~6 s the press takes catches about one press in ten more (the live link: the
    // RRC connection is lost with what was on the air)
    const share = PRESS_DEFAULTS.outage['ce-b'].share;
    expect(slowerThan(PRESS_DEFAULTS, 10_000)).toBeGreaterThan(share + 0.04);
  });

  it('lets the device\'s own retransmission, not only paging, bring back an ack a gap caught', () => {
    // frequent gaps and a paging cycle of a minute: with the press sent again every 5 s, the
    // device wakes the radio itself once coverage is back and the ack rides on it
    const p: PressParams = { ...PRESS_DEFAULTS, outage: { ...PRESS_DEFAULTS.outage, 'ce-b': { share: 0.3, meanS: 8 } }, pagingMs: { ...PRESS_DEFAULTS.pagingMs, 'ce-b': 60_000 } };
    expect(slowerThan(p, 40_000)).toBeLessThan(slowerThan({ ...p, retransmitMs: 0 }, 40_000) - 0.01);
  });

  it('ends for any gap frequency', () => {
    const p: PressParams = { ...PRESS_DEFAULTS, retransmitMs: 0, outage: { ...PRESS_DEFAULTS.outage, 'ce-b': { share: 0.5, meanS: 30 } }, pagingMs: { ...PRESS_DEFAULTS.pagingMs, 'ce-b': 60_000 } };
    expect(slowerThan(p, 0, 500)).toBeGreaterThan(0);
  });
});
