import { describe, expect, it } from '@jest/globals';
import { ENERGY_DEFAULTS, energyBudget, heartbeatCharge, lifeCurve, pressCharge, type EnergyParams } from './energy.js';

// round figures, so that the expected values below can be checked by hand
const params: EnergyParams = {
  sleepUa: 2,
  idleUa: 12,
  txMa: 100,
  gnssMa: 50,
  activeTimeS: 10,
  heartbeatTxS: 1,
  pressTxS: 4,
  pressGnssS: 20,
  alarmOpenS: 600,
  locEveryS: 60,
  locGnssS: 2,
  locTxS: 1,
  usable: 0.8,
};

describe('energy model', () => {
  it('charges a heartbeat its transmit and active time above the sleep floor', () => {
    // (100 000 − 2) µA × 1 s + (12 − 2) µA × 10 s
    expect(heartbeatCharge(params)).toBeCloseTo(99_998 + 100);
  });

  it('charges a press its transmission, GNSS fix and the positions while the alarm is open', () => {
    const press = 99_998 * 4 + 49_998 * 20 + 10 * 10; // 1 400 052 µA·s
    const positions = 10 * (49_998 * 2 + 99_998 * 1); // 600 s / 60 s = 10 positions
    expect(pressCharge(params)).toBeCloseTo(press + positions);
  });

  it('gives the battery life of a hand-computed case: 1000 mAh, hourly heartbeat, one press a day', () => {
    const perDay = 2 * 86_400 + 24 * 100_098 + 3_399_992; // µA·s
    const averageUa = perDay / 86_400; // ≈ 69.16 µA
    const budget = energyBudget({ batteryMah: 1000, heartbeatS: 3600, pressesPerDay: 1 }, params);
    expect(budget.averageUa).toBeCloseTo(averageUa, 6);
    expect(budget.lifeDays).toBeCloseTo((1000 * 0.8 * 1000) / averageUa / 24, 6); // ≈ 482 days
    expect(budget.lifeDays).toBeCloseTo(482, 0);
    expect(budget.perDayMah.heartbeats).toBeCloseTo((24 * 100_098) / 3.6e6, 9);
  });

  it('lasts longer the rarer the heartbeat, never beyond the sleep floor', () => {
    const curve = lifeCurve([300, 3600, 86_400], { batteryMah: 1000, pressesPerDay: 0 });
    expect(curve[0]!.lifeDays).toBeLessThan(curve[1]!.lifeDays);
    expect(curve[1]!.lifeDays).toBeLessThan(curve[2]!.lifeDays);
    const floorDays = (1000 * ENERGY_DEFAULTS.usable * 1000) / ENERGY_DEFAULTS.sleepUa / 24;
    expect(curve[2]!.lifeDays).toBeLessThan(floorDays);
  });

  it('refuses a heartbeat interval or battery of zero', () => {
    expect(() => energyBudget({ batteryMah: 1000, heartbeatS: 0, pressesPerDay: 1 })).toThrow(RangeError);
    expect(() => energyBudget({ batteryMah: 0, heartbeatS: 60, pressesPerDay: 1 })).toThrow(RangeError);
  });
});
