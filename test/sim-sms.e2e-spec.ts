import { describe, expect, it } from '@jest/globals';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { Reporter } from '../device-sim/src/output.js';
import { FLEET_DEFAULTS, type FleetOptions } from '../device-sim/src/fleet-args.js';
import { startInProcessPlatform } from '../device-sim/src/platform-host.js';
import type { RunReport } from '../device-sim/src/report.js';
import { runFleet } from '../device-sim/src/scenarios/fleet.js';

/**
 * The simulator's SMS path against the real platform: buttons in normal coverage that fall back
 * to SMS almost at once, so that every press goes both ways, through the simulated SMS centre and
 * gateway to `POST /api/v1/sms/inbound`, and the platform's acks come back through
 * AMR_SMS_GATEWAY_URL. The scenario runs twice on the same seed (without, then with the SMS path).
 */
describe('device simulator: the SMS fallback against the platform', () => {
  it('counts each press that went both ways as one alarm, and brings the SMS acks to the buttons', async () => {
    const sink = new Writable({ write: (_c, _e, done) => done() });
    const options: FleetOptions = {
      ...FLEET_DEFAULTS.burst,
      scenario: 'burst',
      devices: 3,
      presses: 3,
      seconds: 1,
      profiles: ['good'],
      tls: false,
      operator: null,
      timeoutS: 30,
      retransmitMs: 5000,
      seed: 5,
      stateDir: await mkdtemp(join(tmpdir(), 'amr-sim-sms-')),
      json: false,
      encoding: 'cbor',
      rate: 0,
      batteryMah: 1000,
      pressesPerDay: 1 / 7,
      selfTestsPerDay: 1,
      restartAtS: 0,
      gapS: 0,
      addresses: 0,
      connectConcurrency: 8,
      baselineSamples: 10,
      flood: false,
      storm: false,
      idle: [],
      devicesPerCase: 1,
      nodes: 2,
      killEveryS: 0,
      killRedis: false,
      verbose: false,
      sms: true,
      smsAfterS: 0.05, // before the MQTT answer can come: every press also goes by SMS
    };
    const outcome = await runFleet(options, { reporter: new Reporter(false, sink, sink), signal: new AbortController().signal, startPlatform: startInProcessPlatform });
    const report = outcome.result as RunReport;
    expect(report.objectives.filter((o) => !o.ok)).toEqual([]);

    // every press went both ways and was answered on both: "received" over MQTT and by SMS
    expect(report.samples).toHaveLength(3);
    for (const s of report.samples) {
      expect(s).toMatchObject({ outcome: 'received', smsSent: 1, mqttMs: expect.any(Number), smsMs: expect.any(Number) });
    }
    // one alarm per press: three devices, three alarms, each press counted once by the platform
    expect(new Set(report.samples.map((s) => s.alarmId)).size).toBe(3);
    expect(report.alarms).toEqual({ alarms: 3, countedTwice: 0, withoutPress: 0 });
    expect(report.cic?.extraAlarms).toBe(0);

    // the texts went through the simulated SMS centre: three presses in, their acks out and delivered
    const sms = report.sms!;
    expect(sms.centre).toMatchObject({ submitted: 3, accepted: 3, refused: {}, unknownRecipient: 0 });
    expect(sms.centre.delivered).toBeGreaterThanOrEqual(3);
    expect(sms.paths.all).toMatchObject({ presses: 3, fellBack: 3 });
    expect(sms.paths.all.firstBy.mqtt + sms.paths.all.firstBy.sms).toBe(3);
    // and the run without the SMS path on the same seed, for the comparison
    expect(sms.without?.summary.all).toMatchObject({ presses: 3, received: 3 });
    expect(sms.without?.alarms).toEqual({ alarms: 3, countedTwice: 0, withoutPress: 0 });
  }, 120_000);
});
