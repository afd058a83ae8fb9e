/**
 * The fleet engine behind press (self-hosted), fleet, burst, coverage and restart: provision N
 * buttons, give each its network profile, connect them, run the scenario's press schedule
 * while a simulated CIC watches the event stream and works every alarm, then measure every
 * press (device and CIC side), check the objectives and write the report. With --sms the
 * scenario runs twice on the same seed, without and with the SMS path, and the report compares
 * them (the second run's buttons fall back to SMS through the simulated SMS centre).
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { ApiClient } from '../api.js';
import { SimulatedCic } from '../cic.js';
import { SimDevice } from '../device.js';
import { HEARTBEAT_AXIS_S, lifeCurve, ENERGY_DEFAULTS } from '../energy.js';
import { trafficAt } from '../press-model.js';
import type { FleetOptions } from '../fleet-args.js';
import { checkAlarms, evaluateObjectives, markExtraAlarms, pct, summarizeByProfile, summarizePathsByProfile, type AlarmCheck, type Objective, type PressSample } from '../measure.js';
import { SmsCentre } from '../sms-centre.js';
import { smsCharge, smsModelSection } from '../sms-model.js';
import { PROFILES, seededRandom, type ProfileName, type Random } from '../network.js';
import { ms } from '../output.js';
import { brokerFor, brokerList, externalPlatform, startChildPlatform, type PlatformHandle } from '../platform-host.js';
import { Progress } from '../progress.js';
import { mapBounded, provisionFleet } from '../provision.js';
import { writeReport, type RunReport } from '../report.js';
import type { ScenarioContext, ScenarioOutcome } from './types.js';
import { join } from 'node:path';

/** One press in the schedule: which device, when (ms into the load phase). */
export interface PlannedPress {
  device: number;
  atMs: number;
}

/**
 * The press schedule of a scenario: burst — M presses spread evenly over S seconds on devices in
 * turn; fleet, coverage, restart — M presses at random times in the run (the last 10 % left free
 * so they can complete); press — M presses one after another.
 */
export function pressSchedule(options: Pick<FleetOptions, 'scenario' | 'devices' | 'presses' | 'seconds'>, random: Random): PlannedPress[] {
  const { devices, presses, seconds } = options;
  const span = seconds * 1000;
  const out: PlannedPress[] = [];
  for (let i = 0; i < presses; i++) {
    const atMs =
      options.scenario === 'burst' || options.scenario === 'press'
        ? presses === 1
          ? 0
          : (i * span) / presses
        : random() * span * 0.9;
    out.push({ device: i % devices, atMs });
  }
  return out.sort((a, b) => a.atMs - b.atMs);
}

export async function runFleet(options: FleetOptions, context: ScenarioContext): Promise<ScenarioOutcome> {
  if (!options.sms) return runFleetOnce(options, context);
  context.reporter.line(`run 1/2   ${options.scenario} without the SMS path (seed ${options.seed})`);
  const without = await runFleetOnce({ ...options, sms: false, report: undefined }, context);
  const first = without.result as RunReport;
  if (context.signal.aborted || !first.summary) return without;
  context.reporter.line(`run 2/2   ${options.scenario} with the SMS path: fallback after ${options.smsAfterS} s (seed ${options.seed})`);
  const withSms = await runFleetOnce(options, context, { summary: first.summary, alarms: first.alarms ?? null });
  return { exitCode: Math.max(without.exitCode, withSms.exitCode), result: withSms.result };
}

/** Samples the model's SMS section draws per coverage level. */
const MODEL_SAMPLES = 20_000;

async function runFleetOnce(options: FleetOptions, context: ScenarioContext, baseline?: NonNullable<RunReport['sms']>['without']): Promise<ScenarioOutcome> {
  const { reporter, signal } = context;
  const random = seededRandom(options.seed);
  const progress = new Progress(reporter.progressStream);
  const startedAt = new Date();
  const notes: string[] = [];

  // ---- the SMS centre and gateway (SMS path) ---------------------------------------------------
  let centre: SmsCentre | undefined;
  const gatewayToken = randomBytes(18).toString('base64url');
  if (options.sms) {
    centre = new SmsCentre(seededRandom(options.seed * 31 + 7));
    await centre.listen();
  }
  const smsEnv = centre ? { AMR_SMS_GATEWAY_TOKEN: gatewayToken, AMR_SMS_GATEWAY_URL: centre.url } : undefined;

  // ---- platform --------------------------------------------------------------------------------
  let platform: PlatformHandle;
  if (options.api) {
    try {
      platform = externalPlatform(options.api.url, options.api.token, options.mqttUrl!, options.caFile);
    } catch (error) {
      return platformFailed(reporter, error);
    }
    reporter.line(`platform  ${options.api.url} (given), broker ${options.mqttUrl}`);
  } else {
    const t0 = performance.now();
    try {
      platform = await (context.startPlatform ?? startChildPlatform)({
        ...(options.tls ? { tls: true } : {}),
        ...(options.mtls ? { deviceCa: true } : {}),
        ...(options.databaseUrl ? { databaseUrl: options.databaseUrl } : {}),
        ...(options.dataDir ? { dataDir: options.dataDir } : {}),
        ...(options.verbose ? { onOutput: (l: string) => reporter.error(`[platform] ${l}`) } : {}),
        ...(smsEnv ? { env: smsEnv } : {}),
      });
    } catch (error) {
      await centre?.close();
      return platformFailed(reporter, error);
    }
    reporter.line(`platform  started (${platform.kind}${platform.pid ? `, pid ${platform.pid}` : ''}) in ${ms(performance.now() - t0)}: ${platform.apiUrl}, mqtt://${platform.mqtt.host}:${platform.mqtt.port}${platform.mqtts ? `, mqtts://${platform.mqtts.host}:${platform.mqtts.port}` : ''}`);
  }
  centre?.connect(platform.apiUrl, gatewayToken);
  const api = new ApiClient(platform.apiUrl, platform.token, { timeoutMs: 30_000 });
  const devices: SimDevice[] = [];
  let cic: SimulatedCic | undefined;
  try {
    const broker = brokerFor(platform, options.tls);
    // ---- provisioning ------------------------------------------------------------------------------
    const t0 = performance.now();
    const msisdns = Array.from({ length: options.devices }, (_, i) => `+32479${String(i).padStart(6, '0')}`);
    const creds = await provisionFleet(api, options.devices, {
      cicId: 'cic-antwerpen',
      ...(centre ? { msisdns } : {}),
      ...(options.mtls ? { certificates: true } : {}),
      concurrency: 8,
      signal,
      onProgress: (n) => progress.update('provision', n / options.devices, `${n}/${options.devices} devices`),
    });
    progress.done();
    const provisionMs = performance.now() - t0;
    reporter.line(`provision ${options.devices} devices${options.mtls ? ' with certificates' : ''} in ${ms(provisionMs)} (${ms(provisionMs / options.devices)} each, 8 in flight)`);

    // ---- the CIC ---------------------------------------------------------------------------------
    cic = new SimulatedCic(api, platform.token, options.operator);
    await cic.start();

    // ---- devices: attach and connect ------------------------------------------------------------
    const runStateDir = join(options.stateDir, 'fleet');
    for (const [i, c] of creds.entries()) {
      const profile = PROFILES[options.profiles[i % options.profiles.length]!];
      devices.push(
        new SimDevice({
          deviceId: c.deviceId,
          secret: c.secret,
          ...(c.certificate ? { certificate: c.certificate } : {}),
          profile,
          ...broker,
          ...brokerList(options),
          encoding: options.encoding,
          stateDir: runStateDir,
          random: seededRandom(options.seed * 7919 + i),
          heartbeatMs: options.heartbeatS * 1000,
          locEveryMs: options.locEveryS * 1000,
          connectTimeoutMs: 120_000,
          ...(centre ? { sms: { msisdn: msisdns[i]!, centre } } : {}),
        }),
      );
    }
    const tc = performance.now();
    let connected = 0;
    await mapBounded(devices, 64, async (d) => {
      await d.start();
      connected += 1;
      progress.update('attach', connected / devices.length, `${connected}/${devices.length} connected`);
    });
    progress.done();
    reporter.line(`connect   ${devices.length} devices attached and connected in ${ms(performance.now() - tc)}`);

    // ---- load phase --------------------------------------------------------------------------------
    const schedule = pressSchedule(options, random);
    const origin = performance.now();
    const originWall = Date.now();
    const runMs = options.seconds * 1000;
    for (const d of devices) d.scheduleGaps(runMs + options.timeoutS * 1000, origin);
    if (options.scenario === 'coverage' && options.gapS > 0) {
      // every device goes through one forced gap, at a random time in the first 70 % of the run
      for (const d of devices) {
        const at = random() * runMs * 0.7;
        setTimeout(() => d.link?.blackout(options.gapS * 1000), at).unref();
      }
      notes.push(`Every device lost coverage once for ${options.gapS} s at a random time in the first 70 % of the run, on top of the profile's own gaps.`);
    }
    const pressRuns: Array<Promise<{ device: SimDevice; atMs: number; result: Awaited<ReturnType<SimDevice['press']>> }>> = [];
    const timers: NodeJS.Timeout[] = [];
    let sent = 0;
    let received = 0;
    for (const planned of schedule) {
      pressRuns.push(
        new Promise((resolve) => {
          timers.push(
            setTimeout(() => {
              sent += 1;
              const device = devices[planned.device]!;
              const atMs = performance.now() - origin;
              const sms = options.sms ? { smsAfterMs: options.smsAfterS * 1000 } : {};
              void device.press({ timeoutMs: options.timeoutS * 1000, retransmitMs: options.retransmitMs, signal, ...sms }).then((result) => {
                if (result.outcome === 'received') received += 1;
                resolve({ device, atMs, result });
              });
            }, planned.atMs),
          );
        }),
      );
    }
    let restart: RunReport['restart'];
    let restarted: Promise<void> = Promise.resolve();
    if (options.scenario === 'restart') {
      timers.push(
        setTimeout(() => {
          const killedAt = performance.now();
          restart = { atS: (killedAt - origin) / 1000, downMs: 0 };
          restarted = (async () => {
            await platform.kill();
            reporter.error(`\nrestart   platform killed (SIGKILL) at ${(restart!.atS).toFixed(1)} s; starting it again on the same data`);
            await platform.restart();
            restart!.downMs = performance.now() - killedAt;
            reporter.error(`restart   platform back after ${ms(restart!.downMs)} (pid ${platform.pid})`);
          })().catch((error: Error) => {
            restart!.error = error.message;
            reporter.error(`restart   failed: ${error.message}`);
          });
        }, (options.restartAtS ?? options.seconds / 2) * 1000),
      );
    }
    const ticker = setInterval(() => {
      const elapsed = performance.now() - origin;
      const online = devices.filter((d) => d.button.connected).length;
      progress.update(options.scenario, elapsed / runMs, `${(elapsed / 1000).toFixed(0)}/${options.seconds} s  presses ${received}/${sent}/${schedule.length}  online ${online}/${devices.length}`);
    }, 250);
    const onAbort = () => timers.forEach(clearTimeout);
    signal.addEventListener('abort', onAbort, { once: true });
    await sleep(runMs, signal);
    // the presses still in flight finish (or time out)
    const results = await Promise.race([Promise.all(pressRuns), abortPromise(signal).then(() => [] as never[])]);
    await restarted; // a measurement is only complete with the platform back
    clearInterval(ticker);
    progress.update(options.scenario, 1, `presses ${received}/${sent}`);
    progress.done();

    // ---- let the operator finish, then measure ------------------------------------------------
    if (options.operator) {
      const stageBudget = options.operator.acceptMs + options.operator.dispatchMs + options.operator.closeMs;
      await waitFor(() => results.every((r) => r.result.outcome !== 'received' || closedOrDone(r.device, r.result.seq)), stageBudget + 30_000, signal);
    }
    if (options.sms) {
      // texts still on their way: a press that went by SMS is measured on both paths
      const answeredBySms = (r: (typeof results)[number]) => {
        const p = r.device.button.pressResult(r.result.seq);
        return !p || p.smsSent === 0 || p.receivedBy.sms !== undefined;
      };
      await waitFor(() => results.every(answeredBySms), options.timeoutS * 1000, signal);
    }
    await sleep(500, signal); // late events at the CIC
    const samples = results.map(({ device, atMs, result }) => {
      const current = device.button.pressResult(result.seq) ?? result;
      const pressedAt = origin + atMs;
      const cicEvents = current.alarmId === undefined ? [] : (cic!.pressEvents.get(current.alarmId) ?? []);
      const cicAt = cicEvents.find((t) => t >= pressedAt - 1);
      // a press that joined an open alarm learns its later stages from acks carrying another seq
      const stageAt = (stage: 'accepted' | 'dispatched' | 'closed'): number | undefined => {
        if (current.stages[stage] !== undefined) return current.stages[stage];
        const ack = device.button.acks.find((e) => e.ack.stage === stage && e.ack.alarm !== undefined && e.ack.alarm === current.alarmId && e.at >= pressedAt);
        return ack ? ack.at - pressedAt : undefined;
      };
      const [acceptedMs, dispatchedMs, closedMs] = [stageAt('accepted'), stageAt('dispatched'), stageAt('closed')];
      const sample: PressSample = {
        deviceId: device.options.deviceId,
        profile: device.profileName as ProfileName,
        seq: result.seq,
        atMs,
        outcome: result.outcome,
        retransmissions: result.retransmissions,
        duplicated: (current.otherAlarmIds?.length ?? 0) > 0,
        ...(result.latencyMs !== undefined ? { receivedMs: result.latencyMs } : {}),
        ...(cicAt !== undefined ? { cicMs: cicAt - pressedAt } : {}),
        ...(acceptedMs !== undefined ? { acceptedMs } : {}),
        ...(dispatchedMs !== undefined ? { dispatchedMs } : {}),
        ...(closedMs !== undefined ? { closedMs } : {}),
        ...(current.alarmId !== undefined ? { alarmId: current.alarmId } : {}),
        ...(current.receivedPath !== undefined ? { receivedPath: current.receivedPath } : {}),
        ...(current.receivedBy.mqtt !== undefined ? { mqttMs: current.receivedBy.mqtt } : {}),
        ...(current.receivedBy.sms !== undefined ? { smsMs: current.receivedBy.sms } : {}),
        ...(options.sms ? { smsSent: current.smsSent } : {}),
      };
      return sample;
    });
    const deviceIds = new Set(devices.map((d) => d.options.deviceId));
    const extraAlarms = markExtraAlarms(samples, cic.receivedAt, deviceIds, originWall);
    // the platform's own count: one alarm per press, whichever paths it took
    let alarmCheck: AlarmCheck | null = null;
    // an interrupted run has no samples for the presses in flight: nothing to compare with
    if (!signal.aborted) {
      try {
        const listed = await api.get<Array<{ id: string; deviceId: string; pressCount: number }>>('/api/v1/alarms?limit=1000');
        alarmCheck = checkAlarms(listed.body, samples, deviceIds);
      } catch (error) {
        notes.push(`The platform's alarms could not be listed: ${(error as Error).message}`);
      }
    }

    const objectives: Objective[] = evaluateObjectives(samples, { cicWatched: true, minPresses: schedule.length, deadlines: options.scenario !== 'coverage' });
    if (options.scenario === 'coverage') {
      notes.push('coverage holds the run to no lost, duplicated or rejected press and every press seen at the CIC; the shares within 10 s and 15 s are reported, not held, because every device is forced through a coverage gap.');
    }
    if (restart?.error) objectives.push({ name: 'platform restarted', target: 'yes', actual: restart.error, ok: false });
    if (alarmCheck) {
      objectives.push({ name: 'presses counted twice (the platform\'s alarms)', target: '0', actual: String(alarmCheck.countedTwice), ok: alarmCheck.countedTwice === 0 });
      objectives.push({ name: 'alarms without a press (the platform\'s alarms)', target: '0', actual: String(alarmCheck.withoutPress), ok: alarmCheck.withoutPress === 0 });
    }
    if (cic.stats.operatorErrors.length > 0) {
      objectives.push({ name: 'operator actions refused', target: '0', actual: String(cic.stats.operatorErrors.length), ok: false });
    }
    const summary = summarizeByProfile(samples);
    const platformRss = await platform.rssBytes();
    const report: RunReport = {
      title: `AMR 2.0 device simulator — ${options.scenario}`,
      scenario: options.scenario,
      startedAt: startedAt.toISOString(),
      settings: {
        devices: options.devices,
        presses: schedule.length,
        seconds: options.seconds,
        profiles: options.profiles,
        heartbeatS: options.heartbeatS,
        operator: options.operator,
        timeoutS: options.timeoutS,
        retransmitMs: options.retransmitMs,
        seed: options.seed,
        platform: platform.kind,
        encoding: options.encoding,
      },
      profiles: Object.fromEntries(options.profiles.map((p) => [p, PROFILES[p]])),
      summary,
      samples: samples.map(roundSample),
      objectives,
      ok: objectives.every((o) => o.ok),
      devices: {
        connectMs: Object.fromEntries(
          options.profiles.map((p) => [p, devices.filter((d) => d.profileName === p).map((d) => Math.round(d.connectMs ?? 0))]),
        ),
        heartbeats: sum(devices.map((d) => d.counters.heartbeats)),
        positions: sum(devices.map((d) => d.counters.positions)),
        reconnects: sum(devices.map((d) => d.counters.reconnects)),
        coverageCuts: sum(devices.map((d) => d.link?.stats.cutByGap ?? 0)),
        vibrations: mergeCounts(devices.map((d) => d.counters.vibrations)),
      },
      cic: { events: cic.stats.events, swept: cic.stats.swept, reconnects: cic.stats.reconnects, closed: cic.stats.closed, extraAlarms },
      energy: energySection(options, options.profiles),
      ...(restart ? { restart: { ...restart, downMs: Math.round(restart.downMs) } } : {}),
      ...(platformRss !== undefined ? { platformRssMiB: round1(platformRss / 2 ** 20) } : {}),
      provisioning: { devices: options.devices, ms: Math.round(provisionMs) },
      ...(alarmCheck ? { alarms: alarmCheck } : {}),
      ...(options.sms ? { sms: smsSection(options, samples, devices, centre!, baseline) } : {}),
      notes,
    };

    for (const line of summaryLines(report)) reporter.line(line);
    if (options.report) {
      const files = await writeReport(options.report, report);
      reporter.line(`report    ${files.html}  (${files.json})`);
    }
    const exitCode = signal.aborted ? 130 : report.ok ? 0 : 1;
    return { exitCode, result: report };
  } finally {
    await cic?.stop(0);
    await Promise.all(devices.map((d) => d.stop()));
    await centre?.close();
    await platform.close();
  }
}

/** The SMS part of the report: per path and profile, the run without the SMS path, the platform's alarms, energy, the model. */
function smsSection(
  options: FleetOptions,
  samples: readonly PressSample[],
  devices: readonly SimDevice[],
  centre: SmsCentre,
  without: NonNullable<RunReport['sms']>['without'],
): NonNullable<RunReport['sms']> {
  const energy = options.profiles.map((profile) => {
    const level = PROFILES[profile].level;
    const own = devices.filter((d) => d.profileName === profile);
    const up = sum(own.map((d) => d.counters.smsSent));
    const down = sum(own.map((d) => d.counters.smsReceived));
    const charge = smsCharge(level);
    const uah = (up * charge.uplinkUas + down * charge.downlinkUas) / 3600;
    const fellBack = samples.filter((s) => s.profile === profile && (s.smsSent ?? 0) > 0).length;
    return { profile, level, textsUp: up, textsDown: down, uah: round1(uah), perFallbackUah: fellBack ? round1(uah / fellBack) : 0 };
  });
  return {
    afterS: options.smsAfterS,
    paths: summarizePathsByProfile(samples),
    ...(without ? { without } : {}),
    centre: { ...centre.stats, refused: { ...centre.stats.refused } },
    energy,
    model: smsModelSection({
      samples: MODEL_SAMPLES,
      seed: options.seed,
      afterMs: options.smsAfterS * 1000,
      usage: { batteryMah: options.batteryMah, pressesPerDay: options.pressesPerDay, selfTestsPerDay: options.selfTestsPerDay },
    }),
  };
}

/** The platform could not be started: one clear message, exit code 1. */
export function platformFailed(reporter: ScenarioContext['reporter'], error: unknown): ScenarioOutcome {
  const message = error instanceof Error ? error.message : String(error);
  reporter.error(`platform  could not be started: ${message}`);
  return { exitCode: 1, result: { ok: false, error: { kind: 'platform', message } } };
}

/** The press's alarm was closed on the device (the closed ack may carry another press's seq of a joined alarm). */
function closedOrDone(device: SimDevice, seq: number): boolean {
  const r = device.button.pressResult(seq);
  if (r?.stages.closed !== undefined) return true;
  return r?.alarmId !== undefined && device.button.acks.some((e) => e.ack.stage === 'closed' && e.ack.alarm === r.alarmId);
}

/** Battery life against the heartbeat interval for each profile's coverage level, the session kept alive. */
export function energySection(options: Pick<FleetOptions, 'batteryMah' | 'pressesPerDay' | 'selfTestsPerDay'>, profiles: readonly ProfileName[]): RunReport['energy'] {
  const usage = { batteryMah: options.batteryMah, pressesPerDay: options.pressesPerDay, selfTestsPerDay: options.selfTestsPerDay, session: 'keepalive' as const };
  const curves = profiles.map((profile) => {
    const traffic = trafficAt(PROFILES[profile].level);
    return { label: `${profile} (${PROFILES[profile].level})`, traffic, points: lifeCurve(HEARTBEAT_AXIS_S, usage, traffic) };
  });
  return { batteryMah: options.batteryMah, pressesPerDay: options.pressesPerDay, selfTestsPerDay: options.selfTestsPerDay, defaults: ENERGY_DEFAULTS, curves };
}

export function summaryLines(report: RunReport): string[] {
  const lines: string[] = [];
  const all = report.summary.all;
  lines.push(`summary   ${all.presses} presses: ${all.received} received, ${all.lost} lost, ${all.duplicated} duplicated, ${all.rejected} rejected`);
  for (const [profile, s] of Object.entries(report.summary.profiles)) {
    const st = s.stages;
    lines.push(
      `  ${profile.padEnd(13)} received p50 ${ms(st.receivedMs.p50)} p99 ${ms(st.receivedMs.p99)} | CIC p50 ${ms(st.cicMs.p50)} | accepted p50 ${ms(st.acceptedMs.p50)} | dispatched p50 ${ms(st.dispatchedMs.p50)} | ≤10 s ${pct(s.within10s)}, ≤15 s ${pct(s.within15s)}`,
    );
  }
  const sms = report.sms;
  if (sms?.paths) {
    for (const [profile, p] of Object.entries(sms.paths.profiles)) {
      const w = sms.without?.summary.profiles[profile];
      lines.push(
        `  sms ${profile.padEnd(13)} fell back ${p.fellBack}/${p.presses}, first by SMS ${p.firstBy.sms} | ≤10 s MQTT ${pct(p.mqtt.within10s)} SMS ${pct(p.sms.within10s)} both ${pct(p.both.within10s)}${w ? ` (without SMS ${pct(w.within10s)})` : ''} | ≤15 s MQTT ${pct(p.mqtt.within15s)} SMS ${pct(p.sms.within15s)} both ${pct(p.both.within15s)}${w ? ` (without SMS ${pct(w.within15s)})` : ''}`,
      );
    }
    for (const t of sms.model?.targets ?? []) {
      lines.push(`  model ${t.name}: without SMS ${pct(t.without)}, with SMS ${pct(t.with)} (target ≥ ${pct(t.target)}) — ${t.met ? 'met' : 'missed'}`);
    }
  }
  for (const o of report.objectives) lines.push(`  ${o.ok ? 'ok  ' : 'MISS'} ${o.name}: ${o.actual} (target ${o.target})`);
  return lines;
}

function roundSample(s: PressSample): PressSample {
  const r = (v: number | undefined) => (v === undefined ? undefined : Math.round(v * 10) / 10);
  const out: PressSample = { ...s, atMs: Math.round(s.atMs) };
  for (const key of ['receivedMs', 'cicMs', 'acceptedMs', 'dispatchedMs', 'closedMs'] as const) {
    if (s[key] !== undefined) out[key] = r(s[key]);
  }
  return out;
}

function mergeCounts(list: ReadonlyArray<Partial<Record<string, number>>>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const counts of list) for (const [k, v] of Object.entries(counts)) out[k] = (out[k] ?? 0) + (v ?? 0);
  return out;
}

function sum(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0);
}

function round1(v: number): number {
  return Math.round(v * 10) / 10;
}

export function sleep(msDelay: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, msDelay);
    signal?.addEventListener('abort', done, { once: true });
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
  });
}

function abortPromise(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => (signal.aborted ? resolve() : signal.addEventListener('abort', () => resolve(), { once: true })));
}

export async function waitFor(condition: () => boolean, timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline || signal?.aborted) return false;
    await sleep(100, signal);
  }
  return true;
}
