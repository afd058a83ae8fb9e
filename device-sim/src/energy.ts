/**
 * The energy model: average current and battery life of a button from the time it spends in
 * each state. Pure arithmetic; the defaults and their sources are in device-sim/README.md
 * ("Energy model").
 *
 *   I_avg = I_sleep + Σ_events rate · Σ_states (I_state − I_sleep) · t_state
 *   life  = capacity · usable / I_avg
 *
 * (Each event's time is taken out of sleep, hence I_state − I_sleep.)
 */

export interface EnergyParams {
  /** PSM floor current, µA (nRF9160 PS: I_PSM 2.7 µA). */
  sleepUa: number;
  /** Idle with eDRX paging, after a transmission and before PSM (T3324 active time), µA. */
  idleUa: number;
  /** RRC-connected while sending (uplink at high output power, with the receive gaps), mA. */
  txMa: number;
  /** GNSS acquiring or tracking, mA. */
  gnssMa: number;
  /** Active time in idle/eDRX after each transmission before PSM (T3324), s. */
  activeTimeS: number;
  /** Time RRC-connected for one heartbeat (RRC setup, one publish, PUBACK, RRC release tail), s. */
  heartbeatTxS: number;
  /** Time RRC-connected for a press (setup, publish, the received ack, retransmission margin), s. */
  pressTxS: number;
  /** GNSS time to a first fix after a press (warm start), s. */
  pressGnssS: number;
  /** How long an alarm stays open (positions are sent meanwhile), s. */
  alarmOpenS: number;
  /** Position period while an alarm is open, s. */
  locEveryS: number;
  /** GNSS time per position while tracking (hot), s. */
  locGnssS: number;
  /** RRC-connected time per position publish, s (the radio stays connected between close positions). */
  locTxS: number;
  /** Fraction of the nominal capacity that is usable (cut-off voltage, temperature, self-discharge). */
  usable: number;
}

export const ENERGY_DEFAULTS: Readonly<EnergyParams> = Object.freeze({
  sleepUa: 2.7,
  idleUa: 18,
  txMa: 110,
  gnssMa: 45,
  activeTimeS: 20,
  heartbeatTxS: 2,
  pressTxS: 5,
  pressGnssS: 30,
  alarmOpenS: 900,
  locEveryS: 60,
  locGnssS: 3,
  locTxS: 2,
  usable: 0.8,
});

export interface Usage {
  /** Battery capacity, mAh. */
  batteryMah: number;
  /** Heartbeat interval, s. */
  heartbeatS: number;
  /** Presses (real or self-test) per day. */
  pressesPerDay: number;
}

export interface EnergyBudget {
  /** Average current, µA. */
  averageUa: number;
  /** Charge per day by activity, mAh. */
  perDayMah: { sleep: number; heartbeats: number; presses: number };
  /** Battery life, days. */
  lifeDays: number;
}

/** Charge of one event above the sleep floor, µA·s, from (current, seconds) pairs. */
function eventCharge(p: EnergyParams, parts: ReadonlyArray<readonly [currentUa: number, seconds: number]>): number {
  return parts.reduce((sum, [ua, s]) => sum + (ua - p.sleepUa) * s, 0);
}

/** µA·s of one heartbeat above sleep. */
export function heartbeatCharge(p: EnergyParams = ENERGY_DEFAULTS): number {
  return eventCharge(p, [
    [p.txMa * 1000, p.heartbeatTxS],
    [p.idleUa, p.activeTimeS],
  ]);
}

/** µA·s of one press above sleep: the press, a GNSS fix, and the positions while the alarm is open. */
export function pressCharge(p: EnergyParams = ENERGY_DEFAULTS): number {
  const positions = p.locEveryS > 0 ? Math.floor(p.alarmOpenS / p.locEveryS) : 0;
  return (
    eventCharge(p, [
      [p.txMa * 1000, p.pressTxS],
      [p.gnssMa * 1000, p.pressGnssS],
      [p.idleUa, p.activeTimeS],
    ]) +
    positions *
      eventCharge(p, [
        [p.gnssMa * 1000, p.locGnssS],
        [p.txMa * 1000, p.locTxS],
      ])
  );
}

export function energyBudget(usage: Usage, p: EnergyParams = ENERGY_DEFAULTS): EnergyBudget {
  if (!(usage.heartbeatS > 0)) throw new RangeError(`heartbeat interval must be > 0 s, got ${usage.heartbeatS}`);
  if (!(usage.batteryMah > 0)) throw new RangeError(`battery capacity must be > 0 mAh, got ${usage.batteryMah}`);
  const day = 86_400;
  const heartbeatsPerDay = day / usage.heartbeatS;
  const sleepUas = p.sleepUa * day;
  const heartbeatsUas = heartbeatsPerDay * heartbeatCharge(p);
  const pressesUas = usage.pressesPerDay * pressCharge(p);
  const totalUas = sleepUas + heartbeatsUas + pressesUas;
  const averageUa = totalUas / day;
  const toMah = (uas: number) => uas / 3.6e6; // µA·s → mAh
  return {
    averageUa,
    perDayMah: { sleep: toMah(sleepUas), heartbeats: toMah(heartbeatsUas), presses: toMah(pressesUas) },
    lifeDays: (usage.batteryMah * p.usable * 1000) / averageUa / 24,
  };
}

/** Battery life (days) for each heartbeat interval: the report's curve. */
export function lifeCurve(
  heartbeatsS: readonly number[],
  usage: Omit<Usage, 'heartbeatS'>,
  p: EnergyParams = ENERGY_DEFAULTS,
): Array<{ heartbeatS: number; lifeDays: number; averageUa: number }> {
  return heartbeatsS.map((heartbeatS) => {
    const b = energyBudget({ ...usage, heartbeatS }, p);
    return { heartbeatS, lifeDays: b.lifeDays, averageUa: b.averageUa };
  });
}

/** The heartbeat intervals the report plots: 5 min … 24 h. */
export const HEARTBEAT_AXIS_S: readonly number[] = Object.freeze([300, 600, 900, 1800, 3600, 7200, 14_400, 21_600, 43_200, 86_400]);
