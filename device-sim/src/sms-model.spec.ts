import { describe, expect, it } from '@jest/globals';
import { airtimeMs, radioAt } from './coverage.js';
import { ENERGY_DEFAULTS } from './energy.js';
import { seededRandom } from './network.js';
import { PRESS_DEFAULTS, levelLatencies } from './press-model.js';
import { SMS_DEFAULTS, levelSmsLatencies, smsCharge, smsEnergy, smsModelSection, smsPath, smsRadioMs } from './sms-model.js';

/** A random source that always returns `v` (every draw at the same point of its range). */
const fixed = (v: number) => () => v;

describe('SMS path model', () => {
  it('sends no SMS for a press answered over MQTT within the fallback wait', () => {
    expect(smsPath(150, 'ce-a', { coveredMs: 0, awakeMs: 500, receivedMs: 7999 }, PRESS_DEFAULTS, SMS_DEFAULTS, fixed(0.5))).toBeUndefined();
  });

  it('times a fallback by hand: after the wait, the text up, the network both ways, the answer down (radio still connected)', () => {
    const db = 160;
    const r = radioAt(db);
    const sms = { ...SMS_DEFAULTS, firstAttemptFailure: 0 };
    const path = smsPath(db, 'ce-b', { coveredMs: 0, awakeMs: 3000, receivedMs: 20_000 }, PRESS_DEFAULTS, sms, fixed(0.5))!;
    expect(path.sentMs).toBe(8000);
    const radio = (bytes: number, bps: number) => r.rttMs / 2 + r.rttMs / 6 + airtimeMs(bytes, bps); // random 0.5: jitter a sixth of the RTT, no loss
    const network = 2250 + 500; // middle of 1.5–3 s and 0.2–0.8 s
    const expected = 8000 + radio(180, r.uplinkBps) + 2 * network + PRESS_DEFAULTS.platformMs + radio(180, r.downlinkBps);
    expect(path.ackedMs).toBeCloseTo(expected, 6);
    // at 160 dB the SMS round trip alone takes ~8 s: a fallback at 8 s answers after 15 s
    expect(path.ackedMs).toBeGreaterThan(15_000);
  });

  it('waits for coverage and for the press\'s own wake-up before the text can leave', () => {
    const path = smsPath(160, 'ce-b', { coveredMs: 9000, awakeMs: 12_000, receivedMs: 30_000 }, PRESS_DEFAULTS, SMS_DEFAULTS, fixed(0.5))!;
    expect(path.sentMs).toBe(12_000);
  });

  it('holds the text while a coverage gap the MQTT press met lasts, then wakes the radio again', () => {
    const db = 160;
    const r = radioAt(db);
    const sms = { ...SMS_DEFAULTS, firstAttemptFailure: 0 };
    const covered = { coveredMs: 0, awakeMs: 3000, receivedMs: 30_000 };
    const free = smsPath(db, 'ce-b', covered, PRESS_DEFAULTS, sms, fixed(0.5))!;
    // a gap from 7 s on, coverage back and the cell re-acquired at 16 s: the text due at 8 s waits
    const held = smsPath(db, 'ce-b', { ...covered, outages: [{ fromMs: 7000, backMs: 16_000 }] }, PRESS_DEFAULTS, sms, fixed(0.5))!;
    expect(held.sentMs).toBe(8000);
    expect(held.ackedMs).toBeCloseTo(free.ackedMs + (16_000 - 8000) + r.wakeMs, 6);
  });

  it('resends a CP-DATA lost on the radio after TC1*, 40 s longer in CE mode A and B (TS 24.011 §10)', () => {
    const kept = smsRadioMs(160, 'ce-b', 'up', PRESS_DEFAULTS, SMS_DEFAULTS, fixed(0.5));
    const lost = smsRadioMs(160, 'ce-b', 'up', PRESS_DEFAULTS, SMS_DEFAULTS, fixed(0));
    const lostNormal = smsRadioMs(130, 'normal', 'up', PRESS_DEFAULTS, SMS_DEFAULTS, fixed(0));
    expect(lost).toBeGreaterThan(kept + 59_000);
    expect(SMS_DEFAULTS.tc1Ms['ce-b'] - SMS_DEFAULTS.tc1Ms.normal).toBe(40_000);
    expect(lostNormal).toBeGreaterThan(20_000);
  });

  it('keeps the MQTT figures of the model for the same seed, and never makes a press slower', () => {
    const base = levelLatencies(PRESS_DEFAULTS, 500, seededRandom(3));
    const withSms = levelSmsLatencies(PRESS_DEFAULTS, SMS_DEFAULTS, 500, 3);
    for (const level of ['normal', 'ce-a', 'ce-b'] as const) {
      expect(withSms[level].mqtt.within10s).toBe(base[level].within10s);
      expect(withSms[level].mqtt.within15s).toBe(base[level].within15s);
      expect(withSms[level].both.within10s).toBeGreaterThanOrEqual(withSms[level].mqtt.within10s);
      expect(withSms[level].both.within15s).toBeGreaterThanOrEqual(withSms[level].mqtt.within15s);
      expect(withSms[level].sms.within15s).toBeLessThanOrEqual(withSms[level].fellBack);
    }
    expect(withSms.normal.fellBack).toBe(0);
    expect(withSms['ce-b'].fellBack).toBeGreaterThan(0.1);
  });

  it('is reproducible for a seed', () => {
    expect(levelSmsLatencies(PRESS_DEFAULTS, SMS_DEFAULTS, 300, 9)).toEqual(levelSmsLatencies(PRESS_DEFAULTS, SMS_DEFAULTS, 300, 9));
  });

  it('charges the text up without a wake-up (the press woke the radio) and the answer with one', () => {
    const r = radioAt(160);
    const c = smsCharge('ce-b');
    const p = ENERGY_DEFAULTS;
    const tail = (p.tailMa * 1000 - p.sleepUa) * p.rrcInactivityS + (p.idleUa - p.sleepUa) * p.activeTimeS;
    const up = (p.activeMa * 1000 - p.sleepUa) * ((r.rttMs + airtimeMs(180, r.uplinkBps)) / 1000) + tail;
    const down = (p.activeMa * 1000 - p.sleepUa) * ((r.wakeMs + r.rttMs + airtimeMs(180, r.downlinkBps)) / 1000) + tail;
    expect(c.uplinkUas).toBeCloseTo(up, 3);
    expect(c.downlinkUas).toBeCloseTo(down, 3);
  });

  it('shortens battery life by the fallbacks\' share only', () => {
    const usage = { batteryMah: 1000, pressesPerDay: 1, selfTestsPerDay: 1, heartbeatS: 3600 };
    const none = smsEnergy('ce-b', 0, usage);
    const all = smsEnergy('ce-b', 1, usage);
    expect(none.lifeDays.with).toBe(none.lifeDays.without);
    expect(all.lifeDays.with).toBeLessThan(all.lifeDays.without);
    expect(all.perFallbackUah).toBeGreaterThan(10);
  });

  it('states the targets at CE mode B with and without the SMS path, from the same presses', () => {
    const section = smsModelSection({ samples: 400, seed: 1, afterMs: 8000, usage: { batteryMah: 1000, pressesPerDay: 1 / 7, selfTestsPerDay: 1 } });
    expect(section.targets.map((t) => [t.name, t.target])).toEqual([
      ['CE mode B: "received" within 10 s', 0.95],
      ['CE mode B: "received" within 15 s', 0.99],
    ]);
    expect(section.targets[0]!.without).toBe(section.levels['ce-b'].mqtt.within10s);
    expect(section.targets[1]!.with).toBe(section.levels['ce-b'].both.within15s);
    expect(section.waits.map((w) => w.afterMs)).toEqual([0, 4000, 8000]);
  });
});
