import { describe, expect, it } from '@jest/globals';
import { MCL_DB, NORMAL_EDGE_DB, RADIO_DEFAULTS, atLoss, levelOf, radioAt, rsrpAt } from './coverage.js';

describe('coverage levels', () => {
  it('places coupling losses in normal coverage (≤ 144 dB), CE mode A (≤ 155 dB) and CE mode B', () => {
    expect([130, 144, 145, 155, 156, 164].map(levelOf)).toEqual(['normal', 'normal', 'ce-a', 'ce-a', 'ce-b', 'ce-b']);
  });

  it('meets the evaluated exception report: 0.1 s at the edge of normal coverage, 6.2 s at 164 dB', () => {
    expect(atLoss(RADIO_DEFAULTS.reportMs, NORMAL_EDGE_DB)).toBeCloseTo(100);
    expect(atLoss(RADIO_DEFAULTS.reportMs, MCL_DB)).toBeCloseTo(6200);
    // log-linear in between: the geometric mean half-way
    expect(atLoss(RADIO_DEFAULTS.reportMs, 154)).toBeCloseTo(Math.sqrt(100 * 6200));
    // flat outside the anchored span
    expect(atLoss(RADIO_DEFAULTS.reportMs, 120)).toBeCloseTo(100);
  });

  it('carries the sourced data rates at 164 dB: 250 bit/s up, 1400 bit/s down', () => {
    const r = radioAt(MCL_DB);
    expect(r.uplinkBps).toBeCloseTo(250);
    expect(r.downlinkBps).toBeCloseTo(1400);
    expect(r.wakeMs).toBeCloseTo(6200 + RADIO_DEFAULTS.coreMs);
  });

  it('reports an RSRP consistent with the coupling loss', () => {
    expect(rsrpAt(140)).toBe(-125);
  });
});
