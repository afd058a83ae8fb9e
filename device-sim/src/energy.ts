/**
 * The energy model: average current and battery life of a button from the charge of each event.
 * Pure arithmetic; every default and its source is in docs/lte-m-model.md ("Energy").
 *
 *   I_avg = I_sleep + Σ_events rate · Q_event,   life = capacity · usable / I_avg
 *
 * An uplink event (heartbeat, keepalive, self-test, press, position) is charged above the sleep
 * floor: the time RRC-connected and active (wake-up, a session set-up if the strategy needs one,
 * the exchange) at the active current, the RRC tail until the network's inactivity timer releases
 * the connection, and the idle active time (T3324) with eDRX paging before PSM. GNSS runs only
 * once the radio is released (nRF91: GNSS is time-multiplexed with LTE and cannot run while RRC
 * connected); a fix that fails indoors costs the whole timeout.
 */

/** How the MQTT session survives sleep. */
export type SessionStrategy = 'keepalive' | 'reconnect';
export const SESSION_STRATEGIES: readonly SessionStrategy[] = ['keepalive', 'reconnect'];

export interface EnergyParams {
  /** Supply voltage the charge figures are taken at, V (Online Power Profiler: 3.7 V). */
  voltageV: number;
  /** PSM floor current, µA (nRF9160 PS: I_PSM 2.7 µA). */
  sleepUa: number;
  /** Idle with eDRX paging, after a release and before PSM (T3324 active time), µA (nRF9160 PS: 18 µA at 81.92 s). */
  idleUa: number;
  /** Average current while RRC-connected and active, mA (nRF9160 PS: a PSM TAU, 105 mJ in 1.5 s at 23 dBm and 3.7 V). */
  activeMa: number;
  /** Average current in the RRC tail (connected DRX until the inactivity timer releases), mA: assumption. */
  tailMa: number;
  /** RRC inactivity timer set by the network, s: assumption (typical value). */
  rrcInactivityS: number;
  /** Active time in idle/eDRX after each release before PSM (T3324, network-granted), s: assumption. */
  activeTimeS: number;
  /** GNSS acquiring or tracking, mA (nRF91 PS: continuous tracking 43–44 mA). */
  gnssMa: number;
  /** GNSS first fix after a press (warm start), s: assumption within the usual 20–45 s. */
  pressFixS: number;
  /** GNSS fix per position while an alarm is open (hot start), s: assumption within the usual 1–5 s. */
  positionFixS: number;
  /** A fix that does not come is abandoned after this long, s (Nordic sample default: 120 s). */
  gnssTimeoutS: number;
  /** How long an alarm stays open (positions are sent meanwhile), s: assumption. */
  alarmOpenS: number;
  /** Position period while an alarm is open, s: assumption. */
  locEveryS: number;
  /** Operator's NAT idle timeout for TCP, s: published values from 270 s to 6 h. */
  natTimeoutS: number;
  /** The keepalive goes out at this share of the NAT timeout (margin for clock drift and delays): assumption. */
  keepaliveShare: number;
  /** Fraction of the nominal capacity that is usable (cut-off voltage, temperature, self-discharge): assumption. */
  usable: number;
}

export const ENERGY_DEFAULTS: Readonly<EnergyParams> = Object.freeze({
  voltageV: 3.7,
  sleepUa: 2.7,
  idleUa: 18,
  activeMa: Math.round((105 / 1.5 / 3.7) * 10) / 10, // 18.9 mA
  tailMa: 5,
  rrcInactivityS: 10,
  activeTimeS: 20,
  gnssMa: 43.1,
  pressFixS: 30,
  positionFixS: 3,
  gnssTimeoutS: 120,
  alarmOpenS: 900,
  locEveryS: 60,
  natTimeoutS: 900,
  keepaliveShare: 0.9,
  usable: 0.8,
});

/** The radio's times at one coverage level (press-model.ts trafficAt), s, and the GNSS outlook there. */
export interface Traffic {
  /** From PSM to ready to send (sync, access, RRC setup, service request). */
  wakeS: number;
  /** A small publish and its acknowledgement. */
  exchangeS: number;
  /** TCP handshake, TLS handshake and MQTT CONNECT. */
  sessionSetupS: number;
  /** Probability that a GNSS fix succeeds before the timeout (indoors it often does not). */
  gnssFixProbability: number;
}

export interface Usage {
  /** Battery capacity, mAh. */
  batteryMah: number;
  /** Heartbeat interval, s. */
  heartbeatS: number;
  /** Presses that open an alarm (tracked for `alarmOpenS`), per day. */
  pressesPerDay: number;
  /** Self-tests (a short uplink, no alarm), per day. */
  selfTestsPerDay: number;
  session: SessionStrategy;
}

export interface EnergyBudget {
  /** Average current, µA. */
  averageUa: number;
  /** Charge per day by activity, mAh. */
  perDayMah: { sleep: number; heartbeats: number; selfTests: number; presses: number };
  /** Uplink events per day that keep the session up (heartbeats and keepalives). */
  upkeepPerDay: number;
  /** Battery life, days. */
  lifeDays: number;
}

/** µA·s above sleep of one uplink event; `session`: it sets up TCP, TLS and MQTT first. */
export function uplinkCharge(p: EnergyParams, t: Traffic, session: boolean): number {
  const activeS = t.wakeS + t.exchangeS + (session ? t.sessionSetupS : 0);
  return (p.activeMa * 1000 - p.sleepUa) * activeS + (p.tailMa * 1000 - p.sleepUa) * p.rrcInactivityS + (p.idleUa - p.sleepUa) * p.activeTimeS;
}

/** µA·s above sleep of a GNSS fix of `fixS` that succeeds with probability `q`, else runs to `timeoutS`. */
export function gnssCharge(p: EnergyParams, fixS: number, timeoutS: number, q: number): number {
  return (p.gnssMa * 1000 - p.sleepUa) * (q * fixS + (1 - q) * timeoutS);
}

/** µA·s above sleep of one press: its uplink, a first fix, and the positions while the alarm is open. */
export function pressCharge(p: EnergyParams, t: Traffic, session: SessionStrategy): number {
  const positions = p.locEveryS > 0 ? Math.floor(p.alarmOpenS / p.locEveryS) : 0;
  const positionTimeoutS = Math.min(p.gnssTimeoutS, Math.max(p.positionFixS, p.locEveryS - p.rrcInactivityS));
  return (
    uplinkCharge(p, t, session === 'reconnect') +
    gnssCharge(p, p.pressFixS, p.gnssTimeoutS, t.gnssFixProbability) +
    // the session stays up while the alarm is open: positions pay no set-up
    positions * (uplinkCharge(p, t, false) + gnssCharge(p, p.positionFixS, positionTimeoutS, t.gnssFixProbability))
  );
}

/**
 * Uplink events per day that keep the session: with `keepalive` a heartbeat or, when the next
 * heartbeat is further away than the NAT timeout allows, an MQTT PINGREQ (the same cost); with
 * `reconnect` one heartbeat per interval, each with its own session set-up.
 */
export function upkeepPerDay(p: EnergyParams, heartbeatS: number, session: SessionStrategy): number {
  const interval = session === 'keepalive' ? Math.min(heartbeatS, p.natTimeoutS * p.keepaliveShare) : heartbeatS;
  return 86_400 / interval;
}

export function energyBudget(usage: Usage, t: Traffic, p: EnergyParams = ENERGY_DEFAULTS): EnergyBudget {
  if (!(usage.heartbeatS > 0)) throw new RangeError(`heartbeat interval must be > 0 s, got ${usage.heartbeatS}`);
  if (!(usage.batteryMah > 0)) throw new RangeError(`battery capacity must be > 0 mAh, got ${usage.batteryMah}`);
  const day = 86_400;
  const reconnect = usage.session === 'reconnect';
  const upkeep = upkeepPerDay(p, usage.heartbeatS, usage.session);
  const sleepUas = p.sleepUa * day;
  const heartbeatsUas = upkeep * uplinkCharge(p, t, reconnect);
  const selfTestsUas = usage.selfTestsPerDay * uplinkCharge(p, t, reconnect);
  const pressesUas = usage.pressesPerDay * pressCharge(p, t, usage.session);
  const averageUa = (sleepUas + heartbeatsUas + selfTestsUas + pressesUas) / day;
  const toMah = (uas: number) => uas / 3.6e6; // µA·s → mAh
  return {
    averageUa,
    perDayMah: { sleep: toMah(sleepUas), heartbeats: toMah(heartbeatsUas), selfTests: toMah(selfTestsUas), presses: toMah(pressesUas) },
    upkeepPerDay: upkeep,
    lifeDays: (usage.batteryMah * p.usable * 1000) / averageUa / 24,
  };
}

export interface LifePoint {
  heartbeatS: number;
  lifeDays: number;
  averageUa: number;
}

/** Battery life (days) for each heartbeat interval: the report's curve. */
export function lifeCurve(heartbeatsS: readonly number[], usage: Omit<Usage, 'heartbeatS'>, t: Traffic, p: EnergyParams = ENERGY_DEFAULTS): LifePoint[] {
  return heartbeatsS.map((heartbeatS) => {
    const b = energyBudget({ ...usage, heartbeatS }, t, p);
    return { heartbeatS, lifeDays: b.lifeDays, averageUa: b.averageUa };
  });
}

/** The heartbeat intervals the reports plot: 5 min … 24 h. */
export const HEARTBEAT_AXIS_S: readonly number[] = Object.freeze([300, 600, 900, 1800, 3600, 7200, 14_400, 21_600, 43_200, 86_400]);
