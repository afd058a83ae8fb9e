import { describe, expect, it } from '@jest/globals';
import { ENERGY_DEFAULTS, energyBudget, lifeCurve, pressCharge, upkeepPerDay, uplinkCharge, type EnergyParams, type Traffic } from './energy.js';

// round figures, so that the expected values below can be checked by hand
const params: EnergyParams = {
  ...ENERGY_DEFAULTS,
  sleepUa: 2,
  idleUa: 12,
  activeMa: 20,
  tailMa: 5,
  rrcInactivityS: 10,
  activeTimeS: 10,
  gnssMa: 40,
  pressFixS: 30,
  positionFixS: 2,
  gnssTimeoutS: 120,
  alarmOpenS: 600,
  locEveryS: 60,
  natTimeoutS: 1000,
  keepaliveShare: 0.9,
  usable: 0.8,
};
const traffic: Traffic = { wakeS: 1, exchangeS: 1, sessionSetupS: 3, gnssFixProbability: 0.5 };

describe('energy model', () => {
  it('charges an uplink its active time, the RRC tail and the active time before PSM, above the sleep floor', () => {
    // (20 000 − 2) µA × 2 s + (5 000 − 2) µA × 10 s + (12 − 2) µA × 10 s
    expect(uplinkCharge(params, traffic, false)).toBeCloseTo(19_998 * 2 + 4998 * 10 + 100);
    // a session set-up adds its 3 s at the active current
    expect(uplinkCharge(params, traffic, true) - uplinkCharge(params, traffic, false)).toBeCloseTo(19_998 * 3);
  });

  it('charges a failed GNSS fix the whole timeout: a press with half its fixes failing', () => {
    const uplink = 19_998 * 2 + 4998 * 10 + 100;
    const firstFix = 39_998 * (0.5 * 30 + 0.5 * 120);
    // positions: every 60 s for 600 s; a fix may take what the radio leaves of the period (50 s)
    const position = uplink + 39_998 * (0.5 * 2 + 0.5 * 50);
    expect(pressCharge(params, traffic, 'keepalive')).toBeCloseTo(uplink + firstFix + 10 * position);
  });

  it('keeps the session alive within the NAT timeout: heartbeats beyond it are topped up with keepalives', () => {
    expect(upkeepPerDay(params, 600, 'keepalive')).toBeCloseTo(86_400 / 600);
    expect(upkeepPerDay(params, 86_400, 'keepalive')).toBeCloseTo(86_400 / 900); // 90 % of 1000 s
    expect(upkeepPerDay(params, 86_400, 'reconnect')).toBeCloseTo(1);
  });

  it('gives the battery life of a hand-computed case: 1000 mAh, hourly heartbeat, one self-test, no press', () => {
    const usage = { batteryMah: 1000, heartbeatS: 3600, pressesPerDay: 0, selfTestsPerDay: 1, session: 'reconnect' as const };
    const perEvent = 19_998 * 5 + 4998 * 10 + 100; // with the session set-up
    const averageUa = (2 * 86_400 + 25 * perEvent) / 86_400;
    const budget = energyBudget(usage, traffic, params);
    expect(budget.averageUa).toBeCloseTo(averageUa, 6);
    expect(budget.lifeDays).toBeCloseTo((1000 * 0.8 * 1000) / averageUa / 24, 6);
    expect(budget.perDayMah.selfTests).toBeCloseTo(perEvent / 3.6e6, 9);
  });

  it('lasts longer the rarer the heartbeat until the NAT timeout caps it, never beyond the sleep floor', () => {
    const usage = { batteryMah: 1000, pressesPerDay: 0, selfTestsPerDay: 0, session: 'keepalive' as const };
    const curve = lifeCurve([300, 600, 3600, 86_400], usage, traffic, params);
    expect(curve[0]!.lifeDays).toBeLessThan(curve[1]!.lifeDays);
    expect(curve[2]!.lifeDays).toBeCloseTo(curve[3]!.lifeDays); // both capped by keepalives every 900 s
    const reconnect = lifeCurve([86_400], { ...usage, session: 'reconnect' }, traffic, params);
    expect(reconnect[0]!.lifeDays).toBeGreaterThan(curve[3]!.lifeDays);
    expect(reconnect[0]!.lifeDays).toBeLessThan((1000 * params.usable * 1000) / params.sleepUa / 24);
  });

  it('takes its active current from the product specification: a TAU, 105 mJ in 1.5 s at 3.7 V', () => {
    expect(ENERGY_DEFAULTS.activeMa).toBeCloseTo(105 / 1.5 / 3.7, 1);
    expect(ENERGY_DEFAULTS.sleepUa).toBe(2.7);
  });

  it('refuses a heartbeat interval or battery of zero', () => {
    const usage = { batteryMah: 1000, heartbeatS: 60, pressesPerDay: 1, selfTestsPerDay: 1, session: 'keepalive' as const };
    expect(() => energyBudget({ ...usage, heartbeatS: 0 }, traffic)).toThrow(RangeError);
    expect(() => energyBudget({ ...usage, batteryMah: 0 }, traffic)).toThrow(RangeError);
  });
});
