/**
 * Scenario `bench`: one platform node under thousands of connected devices. Devices connect
 * directly (no network model: this measures the platform, not LTE-M), spread over several
 * loopback source addresses, heartbeat at the chosen interval and press at the chosen rate —
 * up to thousands of presses per second from this one process (pacing.ts, press-tracker.ts).
 * With --flood a second phase repeats the load while one more device floods; with --storm every
 * connection drops a third into the load; with --restart-at S the platform is killed (SIGKILL) S
 * into the load and started again on the same database; with --idle N[,N…] no device presses and the memory
 * per idle connection is measured instead (bench-idle.ts). With --baseline the same client
 * set-up measures a plain broker: its QoS 1 echo, or its memory per idle connection.
 *
 * Devices are provisioned through the batch endpoint (CONTRACT §4, 1,000 per request, one
 * request per device on a platform without it), several per protection case (--devices-per-case).
 * Their ids and secrets are kept in the state directory with the platform's data, so a second
 * run on the same data provisions nothing.
 *
 * The simulated CIC reads the admin's event stream (it sees every CIC) and confirms each alarm's
 * delivery as an integration of the alarm's CIC, one created per CIC for the run: unconfirmed, an
 * alarm would be escalated beneath the figures. For the same reason no run leaves an alarm open:
 * each closes what earlier ones left before its load, and without an operator its own once measured.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { MqttClient } from 'mqtt';
import { connect as netConnect } from 'node:net';
import { UINT32_MAX } from '@amr/protocol';
import { ApiClient, ApiError } from '../api.js';
import type { BenchSection, IdleSection, KillSection } from '../bench-report.js';
import { benchTables } from '../bench-report.js';
import { evaluateTargets } from '../bench-targets.js';
import { SimulatedCic, type CicStats } from '../cic.js';
import { CLOSE_CONCURRENCY, closeOpenAlarms, type CleanupFigure, type OpenAlarm } from '../cic-cleanup.js';
import { DELIVERY_CONCURRENCY } from '../cic-delivery.js';
import { keepDatabase, upkeepText } from '../database-upkeep.js';
import { CicIntegrations } from '../cic-integrations.js';
import { SimDevice } from '../device.js';
import type { FleetOptions } from '../fleet-args.js';
import { evaluateObjectives, summarizeByProfile, type Objective, type PressSample } from '../measure.js';
import { seededRandom } from '../network.js';
import { fmtMs, ms, textTable, type Reporter } from '../output.js';
import { brokerFor, brokerList, externalPlatform, histogram, histogramPercentile, metricSum, scrapeMetrics, startChildPlatform, type PlatformHandle } from '../platform-host.js';
import { connectSteps, pressSteps } from '../press-steps.js';
import { Progress } from '../progress.js';
import { createCases, mapBounded, provisionForCases, type ProvisionedDevice } from '../provision.js';
import { writeReport, type RunReport } from '../report.js';
import { summarize, type LatencySummary } from '../stats.js';
import { idleLimits, planIdleSteps, runIdle } from './bench-idle.js';
import { runLoad, type LoadResult } from './bench-load.js';
import { platformFailed, sleep } from './fleet.js';
import type { ScenarioContext, ScenarioOutcome } from './types.js';

/**
 * Devices per loopback source address by default: the platform bounds unauthenticated
 * connections per address (CONTRACT §2), and one address has about 28,000 ephemeral ports.
 */
export const DEVICES_PER_ADDRESS = 1000;

export function sourceAddresses(devices: number, requested: number): string[] {
  const n = requested > 0 ? requested : Math.min(250, Math.max(1, Math.ceil(devices / DEVICES_PER_ADDRESS)));
  return Array.from({ length: n }, (_, i) => `127.0.0.${i + 1}`);
}

/** The bench's presses use seqs from here up (above what earlier simulator runs used) … */
export const SEQ_FLOOR = 1_000_000;
/** … and a run reserves this many before it presses, so that a run that dies cannot reuse them. */
export const SEQ_RESERVE = 100_000_000;

/** Every device's first seq of a run, from the stored next one (wrapping below 2^32). */
export function seqBaseFrom(stored: number | undefined): number {
  const base = Math.max(stored ?? 0, SEQ_FLOOR);
  return base + SEQ_RESERVE > UINT32_MAX ? SEQ_FLOOR : base;
}

/** Cases the bench creates at once (each is one HTTP request and one transaction). */
const CASE_CONCURRENCY = 16;

/** Samples kept in the report (every press is in the summaries). */
const REPORT_SAMPLES = 2000;

interface DeviceStore {
  platform: string;
  devices: ProvisionedDevice[];
  /** The first seq of the next run (see SEQ_RESERVE). */
  nextSeq?: number;
}

export async function runBench(options: FleetOptions, context: ScenarioContext): Promise<ScenarioOutcome> {
  const { reporter, signal } = context;
  const progress = new Progress(reporter.progressStream);
  const startedAt = new Date();
  const notes: string[] = [];

  // ---- platform with persistent data --------------------------------------------------------
  const benchDir = join(options.stateDir, 'bench');
  let platform: PlatformHandle;
  let key: string;
  if (options.api) {
    try {
      platform = externalPlatform(options.api.url, options.api.token, options.mqttUrl!, options.caFile);
    } catch (error) {
      return platformFailed(reporter, error);
    }
    key = `api:${options.api.url}`;
  } else {
    const dataDir = options.dataDir ?? join(benchDir, 'platform-data');
    key = options.databaseUrl ? `db:${options.databaseUrl}` : `dir:${dataDir}`;
    if (!options.databaseUrl) await mkdir(dataDir, { recursive: true });
    const t0 = performance.now();
    try {
      platform = await (context.startPlatform ?? startChildPlatform)({
        ...(options.tls ? { tls: true } : {}),
        ...(options.databaseUrl ? { databaseUrl: options.databaseUrl } : { dataDir }),
        startTimeoutMs: 180_000,
        ...(options.verbose ? { onOutput: (l: string) => reporter.error(`[platform] ${l}`) } : {}),
      });
    } catch (error) {
      return platformFailed(reporter, error);
    }
    reporter.line(`platform  started (pid ${platform.pid}) in ${ms(performance.now() - t0)} on ${options.databaseUrl ? 'PostgreSQL' : dataDir}`);
  }
  const storeFile = join(benchDir, `devices-${createHash('sha256').update(key).digest('hex').slice(0, 12)}.json`);
  const api = new ApiClient(platform.apiUrl, platform.token, { timeoutMs: 120_000 });
  const devices: SimDevice[] = [];
  let cic: SimulatedCic | undefined;
  let integrations: CicIntegrations | undefined;
  try {
    const addresses = sourceAddresses(options.idle.length ? options.devices : options.devices + (options.flood ? 1 : 0), options.addresses);
    // idle: only as many devices as the platform can hold connected (its open-files limit)
    let wanted = options.devices + (options.flood ? 1 : 0);
    if (options.idle.length) {
      const plan = planIdleSteps(options.idle, await idleLimits(platform, undefined), false);
      wanted = Math.max(0, ...plan.filter((s) => !s.platformSkipped).map((s) => s.devices));
    }

    // ---- devices: reuse, provision the missing ones -------------------------------------------
    const store = await loadStore(storeFile, key, api, (line) => reporter.line(line));
    const reused = Math.min(store.devices.length, wanted);
    const missing = wanted - reused;
    const provisioning: BenchSection['provisioning'] = { provisioned: missing, reused, ms: 0, cases: 0, devicesPerCase: options.devicesPerCase, batch: null };
    if (missing > 0) {
      const fresh = await provision(api, missing, options, progress, signal, (line) => reporter.line(line));
      Object.assign(provisioning, { ms: Math.round(fresh.ms), cases: fresh.cases, batch: fresh.batch });
      store.devices.push(...fresh.devices);
      await saveStore(storeFile, store);
      reporter.line(`provision ${missing} devices in ${ms(fresh.ms)} (${((missing / fresh.ms) * 1000).toFixed(0)} devices/s${fresh.batch ? '' : '; the platform has no batch endpoint: one request per device'}); secrets kept in ${storeFile}`);
    }

    // ---- no alarm left open: an earlier run's (a crashed one's) would escalate beneath the figures --
    const closeOpen = (outcome: string, stop?: AbortSignal) => closeOpenAlarms(api, { outcome, ...(stop ? { signal: stop } : {}), ...ownedAlarms(options, store) });
    const leftOver = await closeOpen('device-sim bench: left open by an earlier run', signal);
    reporter.line(cleanupLine(leftOver, 'left open by earlier runs'));
    const cleanup: NonNullable<BenchSection['cleanup']> = { before: leftOver };

    if (options.idle.length) {
      const idle = await runIdle({ options, platform, creds: store.devices.slice(0, wanted), addresses, progress, log: (l) => reporter.line(l), signal });
      return await finish(options, context, platform, { bench: idleBench(options, idle, addresses.length, provisioning, cleanup), samples: [], objectives: idleObjectives(idle), notes: idleNotes(options, idle), startedAt });
    }

    // ---- a database as a maintained server keeps it: no run measures the dead rows of the last ones --
    const database = options.databaseUrl ? upkeepText(await keepDatabase(options.databaseUrl)) : undefined;
    if (database) reporter.line(`database  ${database}`);

    // ---- the CIC and the devices -----------------------------------------------------------------
    const broker = brokerFor(platform, options.tls);
    // the admin's stream sees every CIC's alarms; each is confirmed delivered by its own CIC's integration
    integrations = await CicIntegrations.create(api, `device-sim bench ${startedAt.toISOString()}`, { timeoutMs: 30_000 });
    cic = new SimulatedCic(api, platform.token, options.operator, { confirmDelivery: integrations.clientFor });
    await cic.start();
    reporter.line(`cic       the admin's event stream; delivery confirmed by ${integrations.count} integrations, one per CIC`);
    const creds = store.devices.slice(0, options.devices);
    for (const [i, c] of creds.entries()) {
      devices.push(
        new SimDevice({
          deviceId: c.deviceId,
          secret: c.secret,
          profile: null,
          ...broker,
          ...brokerList(options),
          encoding: options.encoding,
          stateDir: join(benchDir, 'seq'),
          random: seededRandom(options.seed * 7919 + i),
          heartbeatMs: options.heartbeatS * 1000,
          locEveryMs: options.locEveryS * 1000,
          localAddress: addresses[i % addresses.length]!,
          connectTimeoutMs: 60_000,
          keepaliveS: 300,
          keepAckLog: false,
        }),
      );
    }
    const connect = await connectAll(devices, options.connectConcurrency, progress, signal, reporter);
    reporter.line(`connect   ${connect.connected} devices in ${ms(connect.ms)} (${connect.perSecond.toFixed(0)}/s), ${connect.failed} failed, over ${addresses.length} source address(es)`);
    await sleep(2000, signal);
    const rssIdle = await platform.rssBytes();
    if (rssIdle !== undefined) reporter.line(`memory    platform RSS ${(rssIdle / 2 ** 20).toFixed(0)} MiB with ${connect.connected} idle connections`);

    // ---- load ------------------------------------------------------------------------------------
    const seqBase = seqBaseFrom(store.nextSeq);
    store.nextSeq = seqBase + SEQ_RESERVE;
    await saveStore(storeFile, store);
    const before = await pressMetrics(options, platform);
    const floodCreds = options.flood ? store.devices[options.devices]! : undefined;
    const load = await runLoad({
      options,
      devices: devices.filter((d) => d.button.connected),
      cic,
      platform,
      reporter,
      progress,
      signal,
      random: seededRandom(options.seed),
      seqBase,
      ...(floodCreds
        ? { flood: { ...broker.target, localAddress: addresses[options.devices % addresses.length]!, deviceId: floodCreds.deviceId, secret: floodCreds.secret, encoding: options.encoding } }
        : {}),
    });
    store.nextSeq = load.maxSeq + 1;
    await saveStore(storeFile, store);
    const after = await pressMetrics(options, platform);
    const sinceRestart = load.kill ? await restartFigures(platform) : undefined;

    // ---- baseline ----------------------------------------------------------------------------------
    const main = load.phases[0];
    let baseline: BenchSection['baseline'];
    if (options.baseline) {
      reporter.line(`baseline  QoS 1 echo against ${options.baseline} (${options.baselineSamples} round trips, one in flight)…`);
      const echo = await echoRoundTrips(options.baseline, options.baselineSamples, true);
      // the same without TCP_NODELAY on our socket, to show what Nagle costs against this broker
      const nagle = await echoRoundTrips(options.baseline, Math.min(options.baselineSamples, 500), false);
      const ratio = (a: number | null | undefined, b: number | null) => (a !== null && a !== undefined && b ? a / b : null);
      baseline = { url: options.baseline, echoMs: echo, withoutNoDelayMs: nagle, noDelay: true, ratioP50: ratio(main?.receivedMs.p50, echo.p50), ratioP99: ratio(main?.receivedMs.p99, echo.p99) };
    }

    // ---- the CIC's last confirmations; no alarm of this run left open (the figures are taken) -----
    // the operator closes the alarms it works; without one they are closed here, as a CIC would
    if (options.operator) await cic.sweepOpen();
    await cic.stop(15_000);
    if (!options.operator) {
      try {
        // after Ctrl-C too: "finishing up" includes it (a second Ctrl-C quits at once; the next run closes them then)
        cleanup.after = await closeOpen('device-sim bench: closed after the measurement');
        reporter.line(cleanupLine(cleanup.after, 'of this run'));
      } catch (error) {
        reporter.error(`cleanup   failed: ${(error as Error).message}`);
        notes.push(`The alarms of this run could not all be closed after the measurement (${(error as Error).message}): the next run closes them before its load.`);
      }
    }

    const server = before && after ? serverFigures(before, after) : undefined;
    const bench: BenchSection = {
      devices: connect.connected,
      addresses: addresses.length,
      provisioning,
      connect: { ms: Math.round(connect.ms), perSecond: connect.perSecond, failed: connect.failed },
      connections: load.connections,
      heartbeatS: options.heartbeatS,
      phases: load.phases,
      ...(server ? { server } : {}),
      rssMiB: {
        ...(rssIdle !== undefined ? { platformIdle: mib(rssIdle) } : {}),
        ...(load.rssPeakBytes ? { platformPeak: mib(load.rssPeakBytes) } : {}),
        simulator: mib(process.memoryUsage().rss),
      },
      ...(baseline ? { baseline } : {}),
      ...(load.flood ? { flood: load.flood } : {}),
      ...(load.storm ? { storm: load.storm } : {}),
      ...(load.kill ? { kill: { ...load.kill, ...(sinceRestart ? { sinceRestart } : {}) } } : {}),
      cic: {
        integrations: integrations.count,
        delivered: cic.stats.delivered,
        refused: cic.stats.deliveryErrors.length,
        ...(cic.stats.deliveryErrors[0] ? { firstError: cic.stats.deliveryErrors[0] } : {}),
      },
      cleanup,
      ...(database ? { database } : {}),
      targets: evaluateTargets({
        devices: connect.connected,
        rate: options.rate,
        operator: options.operator !== null,
        ...(main ? { receivedMs: main.receivedMs, cicMs: main.cicMs, durablePerS: main.durablePerS, lost: main.lost, duplicated: main.duplicated } : {}),
        ...(baseline ? { echoMs: baseline.echoMs } : {}),
        ...(load.phases.length === 2 && load.flood
          ? { flood: { quietP99: load.phases[0]!.receivedMs.p99, floodP99: load.phases[1]!.receivedMs.p99, flooded: load.flood.publishes > 0 } }
          : {}),
        ...(load.storm ? { storm: { devices: load.storm.devices, allConnectedMs: load.storm.allConnectedMs, reconnected: load.storm.reconnected } } : {}),
        ...(load.kill ? { kill: { atS: load.kill.atS, downMs: load.kill.downMs, lost: load.kill.run.lost, duplicated: load.kill.run.duplicated } } : {}),
      }),
    };
    const objectives = evaluateObjectives(load.samples, { cicWatched: true, minPresses: 1 });
    if (connect.failed > 0) objectives.push({ name: 'devices connected', target: String(options.devices), actual: String(connect.connected), ok: false });
    objectives.push(...killObjectives(load));
    if (options.restartAtS !== undefined && !load.kill) notes.push('--restart-at: the run ended before the kill (interrupted): the platform was not killed.');
    return await finish(options, context, platform, { bench, samples: load.samples, objectives, notes: loadNotes(options, load, notes, cic.stats, cleanup), startedAt, ...(load.kill ? { restart: restartOf(load.kill) } : {}) });
  } finally {
    await cic?.stop(0);
    await integrations?.revoke();
    await mapBounded(devices, 256, (d) => d.stop());
    await platform.close();
  }
}

/**
 * Which open alarms the bench closes: on a platform it started, every one (its database is the
 * bench's); on a given one (--api), only those of the devices it provisioned there.
 */
function ownedAlarms(options: FleetOptions, store: DeviceStore): { owned?: (alarm: OpenAlarm) => boolean } {
  if (!options.api) return {};
  const mine = new Set(store.devices.map((d) => d.deviceId));
  return { owned: (alarm) => alarm.deviceId !== undefined && mine.has(alarm.deviceId) };
}

/** The "cleanup" line of the run's output (the closes are in no latency figure). */
function cleanupLine(c: CleanupFigure, whose: string): string {
  return `cleanup   ${c.closed} alarm(s) ${whose} closed in ${fmtMs(c.ms)} (${CLOSE_CONCURRENCY} in flight)${c.refused ? `; ${c.refused} refused, e.g. ${c.firstError}` : ''}`;
}

/** Prints the tables and the objectives, writes the report. */
async function finish(
  options: FleetOptions,
  context: ScenarioContext,
  platform: PlatformHandle,
  run: { bench: BenchSection; samples: PressSample[]; objectives: Objective[]; notes: string[]; startedAt: Date; restart?: RunReport['restart'] },
): Promise<ScenarioOutcome> {
  const { reporter, signal } = context;
  const { bench, samples, objectives } = run;
  const report: RunReport = {
    title: `AMR 2.0 device simulator — bench, ${bench.devices} devices${options.idle.length ? ', idle memory' : ''}`,
    scenario: 'bench',
    startedAt: run.startedAt.toISOString(),
    settings: {
      devices: options.devices, seconds: options.seconds, rate: options.rate, heartbeatS: options.heartbeatS, operator: options.operator, flood: options.flood,
      storm: options.storm, ...(options.restartAtS !== undefined ? { restartAtS: options.restartAtS } : {}), idle: options.idle, devicesPerCase: options.devicesPerCase, platform: platform.kind,
      database: options.api ? 'the given platform\'s' : options.databaseUrl ? 'PostgreSQL' : 'embedded (PGlite)', encoding: options.encoding, cores: cpus().length,
    },
    profiles: {},
    summary: summarizeByProfile(samples),
    samples: reportSamples(samples, REPORT_SAMPLES),
    objectives,
    ok: objectives.every((o) => o.ok),
    ...(run.restart ? { restart: run.restart } : {}),
    bench,
    notes: run.notes,
  };
  for (const line of benchLines(bench)) reporter.line(line);
  for (const o of objectives) reporter.line(`  ${o.ok ? 'ok  ' : 'MISS'} ${o.name}: ${o.actual} (target ${o.target})`);
  if (options.report) {
    const files = await writeReport(options.report, report);
    reporter.line(`report    ${files.html}  (${files.json})`);
  }
  return { exitCode: signal.aborted ? 130 : report.ok ? 0 : 1, result: report };
}

/** The bench's tables as terminal lines. */
export function benchLines(b: BenchSection): string[] {
  return benchTables(b).flatMap((t) => ['', t.title, ...textTable(t.head, t.rows).map((l) => `  ${l}`)]);
}

/**
 * The stored devices of this platform, unless the platform no longer knows them (its database
 * was reset): then they are forgotten and provisioned again.
 */
async function loadStore(file: string, key: string, api: ApiClient, log: (line: string) => void): Promise<DeviceStore> {
  const store: DeviceStore = existsSync(file) ? (JSON.parse(await readFile(file, 'utf8')) as DeviceStore) : { platform: key, devices: [] };
  const probe = [store.devices[0], store.devices[store.devices.length - 1]].filter((d) => d !== undefined);
  for (const d of probe) {
    try {
      await api.get(`/api/v1/devices/${encodeURIComponent(d.deviceId)}`);
    } catch (error) {
      if (!(error instanceof ApiError) || error.status !== 404) throw error;
      log(`provision the ${store.devices.length} devices kept in ${file} are unknown to this platform (its data was reset): provisioning anew`);
      return { platform: key, devices: [], ...(store.nextSeq !== undefined ? { nextSeq: store.nextSeq } : {}) };
    }
  }
  return store;
}

async function saveStore(file: string, store: DeviceStore): Promise<void> {
  await mkdir(join(file, '..'), { recursive: true, mode: 0o700 });
  await writeFile(`${file}.tmp`, JSON.stringify(store), { mode: 0o600 });
  await rename(`${file}.tmp`, file);
}

/**
 * `count` new devices: ⌈count / devicesPerCase⌉ cases (CASE_CONCURRENCY requests in flight),
 * then the devices through the batch endpoint, each case id repeated devicesPerCase times.
 */
async function provision(
  api: ApiClient,
  count: number,
  options: FleetOptions,
  progress: Progress,
  signal: AbortSignal,
  log: (line: string) => void,
): Promise<{ devices: ProvisionedDevice[]; cases: number; batch: boolean; ms: number }> {
  const t0 = performance.now();
  const cases = Math.ceil(count / options.devicesPerCase);
  log(`provision ${count} devices: ${cases} cases (${options.devicesPerCase} devices each), then the devices in batches of 1,000…`);
  const rate = (n: number) => `${((n / (performance.now() - t0)) * 1000).toFixed(0)}/s`;
  const caseIds = await createCases(api, cases, {
    cicId: 'cic-antwerpen',
    reference: 'device-sim-bench',
    concurrency: CASE_CONCURRENCY,
    signal,
    onProgress: (n) => progress.update('cases', n / cases, `${n}/${cases}  ${rate(n)}`),
  });
  progress.done();
  const casesMs = performance.now() - t0;
  const perDevice = Array.from({ length: count }, (_, i) => caseIds[Math.floor(i / options.devicesPerCase)]!);
  const t1 = performance.now();
  const { devices, batch } = await provisionForCases(api, perDevice, {
    signal,
    onProgress: (n) => progress.update('devices', n / count, `${n}/${count}  ${((n / (performance.now() - t1)) * 1000).toFixed(0)}/s`),
  });
  progress.done();
  log(`provision ${cases} cases in ${ms(casesMs)}, ${count} devices in ${ms(performance.now() - t1)}`);
  return { devices, cases, batch, ms: performance.now() - t0 };
}

async function connectAll(
  devices: readonly SimDevice[],
  concurrency: number,
  progress: Progress,
  signal: AbortSignal,
  reporter: Reporter,
): Promise<{ connected: number; failed: number; ms: number; perSecond: number }> {
  const t0 = performance.now();
  let connected = 0;
  let failed = 0;
  await mapBounded(devices, concurrency, async (d) => {
    if (signal.aborted) return;
    try {
      await d.start();
      connected += 1;
    } catch (error) {
      failed += 1;
      if (failed <= 3) reporter.error(`connect ${d.options.deviceId}: ${(error as Error).message}`);
    }
    const done = connected + failed;
    if (done % 100 === 0 || done === devices.length) {
      progress.update('connect', done / devices.length, `${connected}/${devices.length} connected, ${failed} failed, ${((done / (performance.now() - t0)) * 1000).toFixed(0)}/s`);
    }
  });
  progress.done();
  const elapsed = performance.now() - t0;
  return { connected, failed, ms: elapsed, perSecond: (connected / elapsed) * 1000 };
}

/**
 * QoS 1 echo: publish to a topic this client subscribes to, wait for it to come back, repeat.
 * The same mqtt.js options as the buttons (MQTT 3.1.1, TCP_NODELAY on our socket).
 */
export async function echoRoundTrips(url: string, samples: number, noDelay: boolean): Promise<LatencySummary> {
  const target = new URL(url);
  const host = target.hostname;
  const port = Number(target.port || 1883);
  // the stream form sets noDelay before CONNECT, as the buttons' do
  const client = new MqttClient(() => netConnect({ host, port, noDelay }) as never, {
    protocolVersion: 4,
    clean: true,
    clientId: `amr-sim-echo-${process.pid}`,
    reconnectPeriod: 0,
    connectTimeout: 10_000,
  });
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve());
    client.once('error', reject);
    client.once('close', () => reject(new Error(`cannot connect to ${url}`)));
  });
  const topic = `amr-sim/echo/${process.pid}`;
  await client.subscribeAsync(topic, { qos: 1 });
  const out: number[] = [];
  let pending: ((t: number) => void) | undefined;
  client.on('message', () => pending?.(performance.now()));
  const payload = Buffer.alloc(64, 1);
  for (let i = 0; i < samples + 50; i++) {
    const started = performance.now();
    const arrived = new Promise<number>((resolve) => (pending = resolve));
    client.publish(topic, payload, { qos: 1 });
    const at = await Promise.race([arrived, sleep(5000).then(() => NaN)]);
    if (i >= 50 && Number.isFinite(at)) out.push(at - started); // the first 50 warm up
  }
  await client.endAsync();
  return summarize(out);
}

/** At most `max` samples for the report, evenly spread over the run, plus every press that was not received. */
export function reportSamples(samples: readonly PressSample[], max: number): PressSample[] {
  const step = Math.max(1, Math.ceil(samples.length / max));
  const round = (v: number | undefined) => (v === undefined ? undefined : Math.round(v * 1000) / 1000);
  return samples
    .filter((s, i) => i % step === 0 || s.outcome !== 'received' || s.duplicated)
    .map((s) => {
      const out: PressSample = { ...s, atMs: Math.round(s.atMs) };
      if (s.receivedMs !== undefined) out.receivedMs = round(s.receivedMs)!;
      if (s.cicMs !== undefined) out.cicMs = round(s.cicMs)!;
      return out;
    });
}

function loadNotes(options: FleetOptions, load: LoadResult, notes: string[], cicStats: CicStats, cleanup: NonNullable<BenchSection['cleanup']>): string[] {
  notes.push('Devices connect directly over loopback (no network model): the figures are the platform\'s, not LTE-M\'s.');
  notes.push(`The CIC reads the admin's event stream (one stream that sees every CIC's alarms) and confirms the delivery of every alarm that arrives (POST …/delivered; again at its new CIC after a hand-over) with the token of an integration of the alarm's CIC, one created per CIC for the run and revoked at its end: ${cicStats.delivered} confirmed, ${cicStats.deliveryErrors.length} refused or failed${cicStats.deliveryErrors[0] ? ` (e.g. ${cicStats.deliveryErrors[0]})` : ''}. The confirmations go out beside the measurement, at most ${DELIVERY_CONCURRENCY} at a time; a delivered alarm then waits for an operator's accept, and only one left open past the accept timeout (AMR_ACCEPT_TIMEOUT_S, 120 s by default) is escalated.`);
  const closed = (c: CleanupFigure | undefined) => (c ? `${c.closed} in ${(c.ms / 1000).toFixed(1)} s${c.refused ? `, ${c.refused} refused` : ''}` : 'none');
  notes.push(`No alarm is left open to escalate beneath the figures: before the load the bench closed those earlier runs had left open (${closed(cleanup.before)}), and ${options.operator ? 'the simulated operator closed this run\'s' : `after the measurement, this run's (${closed(cleanup.after)})`}; these closes are in no figure.`);
  notes.push('Latencies run from the publish of the press to the arrival of its ack (or of its alarm on the CIC\'s event stream), on one clock in one process; the generator\'s own lag (how late a press went out against its schedule) is reported apart and not counted.');
  notes.push('A press goes to the next device in a shuffled order that has no press waiting for its answer; a press is lost without "received" within the timeout, duplicated when its acks carried two alarm ids or the CIC got an alarm none of its device\'s presses was acked with.');
  if (load.samples.length > REPORT_SAMPLES) notes.push(`The report keeps ${REPORT_SAMPLES} of the ${load.samples.length} presses (evenly spread, plus every one not received); the summaries cover all of them.`);
  if (load.extraAlarms) notes.push(`${load.extraAlarms} alarm(s) reached the CIC that no press was acked with.`);
  if (options.flood) notes.push('--flood: the quiet phase and the flood phase press at the same rate on the same devices; during the second, one more device publishes alarms (a new seq each, QoS 1, no wait for acks) and SUBSCRIBEs to its ack topic, in turn, as fast as its socket takes them, from its own thread; when dropped it reconnects after 1 s.');
  if (load.kill) {
    notes.push(`--restart-at ${options.restartAtS}: ${load.kill.atS.toFixed(1)} s into the load the platform's process was killed with SIGKILL (no shutdown) and started again at once on the same database and ports; the devices were left alone: each noticed its lost connection and reconnected with its own back-off (1 s, 2 s, 4 s … 30 s, ±25 % jitter), as a button does. Presses kept coming at the asked rate; a device holds its press until answered (presses wait when every device holds one: held back), its client sends what it holds on reconnect and the sweep resends it every --retransmit-ms (same seq and device time). "Connected again" is the device's SUBACK; lost and duplicated count the whole load phase.`);
    notes.push(`The CIC's event stream broke with the kill: it reconnected ${cicStats.reconnects} time(s) (resuming from Last-Event-ID) and found ${cicStats.swept} alarm(s) only in its sweep of the open alarms after reconnecting (press → CIC of those is the sweep's time).`);
    notes.push('The platform\'s own press → received histogram is not shown for a run with a kill: its counters started again from zero with the new process, so the difference of the two scrapes would mean nothing. The restarted process\'s own timing is shown instead, scraped at the end of the load: its counters hold its start, the reconnections and the load after them. Its CPU over the phase is the killed process\'s up to the kill plus the new one\'s since its start (start-up included).');
  }
  if (options.storm) notes.push('--storm: a third into the load phase every device\'s socket is destroyed at once (as a lost network does) and each reconnects at once (clean session 0), then resubscribes; "connected again" is its SUBACK. Presses keep coming; those to a device still offline wait in its client and go out on reconnect.');
  notes.push('The platform runs as its own process; its RSS is read from /proc/<pid>/status (VmRSS).');
  if (options.baseline) notes.push('Baseline: one mqtt.js client with TCP_NODELAY on its socket publishes QoS 1 to a topic it subscribes to (QoS 1), one message in flight; the broker\'s own socket options are its own.');
  return notes;
}

function idleBench(options: FleetOptions, idle: IdleSection, addresses: number, provisioning: BenchSection['provisioning'], cleanup: BenchSection['cleanup']): BenchSection {
  return {
    devices: Math.max(0, ...idle.steps.map((s) => s.platform?.connected ?? 0)),
    addresses,
    provisioning,
    phases: [],
    rssMiB: { simulator: mib(process.memoryUsage().rss) },
    idle,
    ...(cleanup ? { cleanup } : {}),
    targets: evaluateTargets({ devices: options.devices, idle: idle.steps.map((s) => ({ devices: s.devices, kibPerDevice: s.platform?.kibPerDevice ?? null })) }),
  };
}

function idleObjectives(idle: IdleSection): Objective[] {
  return idle.steps.flatMap((s) =>
    s.platform ? [{ name: `idle devices connected (${s.devices})`, target: String(s.devices), actual: String(s.platform.connected), ok: s.platform.connected === s.devices }] : [],
  );
}

function idleNotes(options: FleetOptions, idle: IdleSection): string[] {
  const fd = (l: { soft: number; hard: number } | undefined) => (l ? `${l.soft} (hard ${l.hard})` : 'unknown');
  const skipped = idle.steps.flatMap((s) => [
    ...(s.platformSkipped ? [`Platform at ${s.devices}: ${s.platformSkipped}.`] : []),
    ...(s.baselineSkipped ? [`Baseline at ${s.devices}: ${s.baselineSkipped}.`] : []),
  ]);
  return [
    ...skipped,
    `Idle devices are minimal MQTT 3.1.1 clients (one socket and one parser each, one keepalive timer for all): CONNECT with the device's credentials and clean session 0, SUBSCRIBE QoS 1 to its ack and cmd topics, PINGREQ every ${idle.keepaliveS} s. Counts are cumulative: each step adds devices to the ones already connected.`,
    'KiB per device = (RSS with the step\'s devices connected − RSS before the first one) ÷ connected devices, both read once the figure had settled (two reads 1 s apart within 1 %). Heap: the platform\'s V8 heap in use (amr_nodejs_heap_size_used_bytes), which moves with garbage collection.',
    `Open-files limits (ulimit -n): simulator ${fd(idle.openFiles.simulator)}, platform ${fd(idle.openFiles.platform)}${options.baseline ? `, plain broker ${fd(idle.openFiles.baseline)}` : ''}. A count that needs more descriptors than a process may open is reported as not measured.`,
    ...(options.baseline
      ? [`Baseline: the broker at ${options.baseline} (pid ${idle.baselinePid ?? 'not found'}), ${idle.baselineClientsBefore ?? 'an unknown number of'} client(s) connected before the run by its $SYS report; the same number of anonymous clients with the same session and subscriptions, its RSS from /proc/<pid>/status; their sessions are removed afterwards (a clean-session connect of each id).`]
      : []),
  ];
}

/**
 * The platform's metrics, scraped before and after the load for its own press → received histogram
 * and its press path's step timings — not in a run that kills the platform (the new process's counters start from zero: the difference would be
 * meaningless, even negative).
 */
async function pressMetrics(options: FleetOptions, platform: PlatformHandle): Promise<string | undefined> {
  if (options.restartAtS !== undefined) return undefined;
  return scrapeMetrics(platform.apiUrl, platform.token).catch(() => undefined);
}

/** Presses sent again before their answer, answered with their first copy's outcome. */
const JOINED_METRIC = 'amr_device_messages_joined_total';

/**
 * The restarted platform's own timing, scraped at the end of the load: its counters started at zero
 * with the new process, so they hold the reconnection and the load after it, nothing before.
 */
async function restartFigures(platform: PlatformHandle): Promise<KillSection['sinceRestart']> {
  const text = await scrapeMetrics(platform.apiUrl, platform.token).catch(() => undefined);
  if (text === undefined) return undefined;
  const presses = (outcome: string) => metricSum(text, 'amr_alarm_presses_total', { outcome });
  return {
    connectSteps: connectSteps('', text),
    pressSteps: pressSteps('', text),
    joined: metricSum(text, JOINED_METRIC),
    presses: { new: presses('new'), joined: presses('joined'), retransmission: presses('retransmission') },
  };
}

/**
 * The platform's own figures between two scrapes: press → `received` as it timed it, where that
 * time went, how long a joined press waited for its announcement, and how long events waited in
 * the log before the streams had them.
 */
function serverFigures(before: string, after: string): NonNullable<BenchSection['server']> {
  const between = (name: string) => {
    const [was, now] = [before, after].map((text) => histogram(text, name)) as [ReturnType<typeof histogram>, ReturnType<typeof histogram>];
    return {
      count: now.count - was.count,
      ...ms3('p50', histogramPercentile(was, now, 50)),
      ...ms3('p90', histogramPercentile(was, now, 90)),
      ...ms3('p99', histogramPercentile(was, now, 99)),
    };
  };
  return {
    pressToReceivedMs: between('amr_press_to_received_seconds'),
    announceMs: between('amr_alarm_announce_seconds'),
    eventLogMs: between('amr_event_log_delay_seconds'),
    steps: pressSteps(before, after),
    joined: metricSum(after, JOINED_METRIC) - metricSum(before, JOINED_METRIC),
  };
}

/** A kill that the platform did not come back from, or that not every device came back from, fails the run. */
function killObjectives(load: LoadResult): Objective[] {
  const k = load.kill;
  if (!k) return [];
  return [
    { name: 'platform started again after the kill', target: 'yes', actual: k.downMs === null ? (k.error ?? 'no') : `after ${ms(k.downMs)}`, ok: k.downMs !== null },
    { name: 'devices connected again after the kill', target: String(k.devices), actual: String(k.reconnected), ok: k.allConnectedMs !== null },
  ];
}

/** The run's restart as every scenario reports it (RunReport.restart). */
function restartOf(k: NonNullable<LoadResult['kill']>): NonNullable<RunReport['restart']> {
  return { atS: k.atS, downMs: k.downMs ?? 0, ...(k.error !== undefined ? { error: k.error } : {}) };
}

function ms3(key: string, seconds: number | undefined): Record<string, number> {
  return seconds === undefined || !Number.isFinite(seconds) ? {} : { [key]: seconds * 1000 };
}

function mib(bytes: number): number {
  return Math.round((bytes / 2 ** 20) * 10) / 10;
}
