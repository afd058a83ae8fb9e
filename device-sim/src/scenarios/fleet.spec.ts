import { describe, expect, it } from '@jest/globals';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { Reporter } from '../output.js';
import { FLEET_DEFAULTS, type FleetOptions } from '../fleet-args.js';
import { seededRandom } from '../network.js';
import { startInProcessPlatform } from '../platform-host.js';
import type { RunReport } from '../report.js';
import { pressSchedule, runFleet } from './fleet.js';

describe('press schedule', () => {
  it('spreads a burst evenly over its seconds, devices in turn', () => {
    const plan = pressSchedule({ scenario: 'burst', devices: 2, presses: 4, seconds: 2 }, seededRandom(1));
    expect(plan).toEqual([
      { device: 0, atMs: 0 },
      { device: 1, atMs: 500 },
      { device: 0, atMs: 1000 },
      { device: 1, atMs: 1500 },
    ]);
  });

  it('places fleet presses at random in the first 90 % of the run', () => {
    const plan = pressSchedule({ scenario: 'fleet', devices: 5, presses: 50, seconds: 10 }, seededRandom(3));
    expect(plan).toHaveLength(50);
    expect(plan.every((p) => p.atMs >= 0 && p.atMs < 9000)).toBe(true);
    expect(plan.map((p) => p.atMs)).toEqual([...plan.map((p) => p.atMs)].sort((a, b) => a - b));
  });
});

describe('scenario burst, end to end (in-process platform, PGlite in memory)', () => {
  it('gets every press "received" on the device, seen at the CIC, accepted, dispatched; nothing lost or duplicated', async () => {
    const sink = new Writable({ write: (_c, _e, done) => done() });
    const options: FleetOptions = {
      ...FLEET_DEFAULTS.burst,
      scenario: 'burst',
      devices: 2,
      presses: 3,
      seconds: 1,
      profiles: ['good'],
      tls: false,
      operator: { acceptMs: 1000, dispatchMs: 100, closeMs: 100 }, // accepted after the later press of the same alarm is received
      retransmitMs: 5000,
      seed: 1,
      stateDir: await mkdtemp(join(tmpdir(), 'amr-sim-')),
      json: false,
      encoding: 'cbor',
      rate: 0,
      batteryMah: 1000,
      pressesPerDay: 1,
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
      sms: false,
      smsAfterS: 8,
    };
    const outcome = await runFleet(options, {
      reporter: new Reporter(false, sink, sink),
      signal: new AbortController().signal,
      startPlatform: startInProcessPlatform,
    });
    const report = outcome.result as RunReport;
    expect(report.objectives.filter((o) => !o.ok)).toEqual([]);
    expect(outcome.exitCode).toBe(0);
    expect(report.summary.all).toMatchObject({ presses: 3, received: 3, lost: 0, duplicated: 0 });
    // device 0 presses twice: the second press joins its open alarm (same alarm id, no second alarm)
    expect(new Set(report.samples.map((s) => s.alarmId)).size).toBe(2);
    for (const s of report.samples) {
      expect(s.cicMs).toBeDefined();
      expect(s.acceptedMs).toBeGreaterThan(s.receivedMs!);
      expect(s.dispatchedMs).toBeGreaterThan(s.acceptedMs!);
    }
    // the button played short (received), double (accepted), triple (dispatched) for each alarm
    expect(report.devices!.vibrations['short']).toBeGreaterThanOrEqual(2);
    expect(report.devices!.vibrations['triple']).toBeGreaterThanOrEqual(2);
  }, 150_000); // ~15 s on an idle machine; PGlite start-up alone can take a minute on a loaded one
});

describe('scenario press with --mtls, end to end (in-process platform with a throwaway device CA)', () => {
  it('provisions each button with a certificate; they connect with it, no password, and every press is received', async () => {
    const sink = new Writable({ write: (_c, _e, done) => done() });
    const lines: string[] = [];
    const out = new Writable({ write: (c, _e, done) => (lines.push(String(c)), done()) });
    const options: FleetOptions = {
      ...FLEET_DEFAULTS.press,
      scenario: 'press', devices: 2, presses: 2, seconds: 1, profiles: ['good'], tls: true, mtls: true,
      operator: null, retransmitMs: 5000, seed: 1, stateDir: await mkdtemp(join(tmpdir(), 'amr-sim-')), json: false, encoding: 'cbor',
      rate: 0, batteryMah: 1000, pressesPerDay: 1, selfTestsPerDay: 1, restartAtS: 0, gapS: 0, addresses: 0, connectConcurrency: 8,
      baselineSamples: 10, flood: false, storm: false, idle: [], devicesPerCase: 1, nodes: 2, killEveryS: 0, killRedis: false,
      verbose: false, sms: false, smsAfterS: 8,
    };
    const outcome = await runFleet(options, { reporter: new Reporter(false, out, sink), signal: new AbortController().signal, startPlatform: startInProcessPlatform });
    const report = outcome.result as RunReport;
    expect(lines.join('')).toMatch(/provision 2 devices with certificates/);
    expect(report.summary.all).toMatchObject({ presses: 2, received: 2, lost: 0, duplicated: 0 });
  }, 150_000);
});
