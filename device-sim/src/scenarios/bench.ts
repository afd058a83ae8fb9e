/**
 * Scenario `bench`: one platform node under thousands of connected devices. Devices connect
 * directly (no network model: this measures the platform, not LTE-M), spread over several
 * loopback source addresses when one would run out of ephemeral ports, heartbeat at the chosen
 * interval and press at the chosen rate. Reported: press → "received" on the device and
 * press → visible at the CIC (SSE), the platform's own press → received histogram, throughput,
 * the platform's RSS; with --baseline, the same mqtt.js set-up's QoS 1 echo round trip against
 * a plain broker, and the ratio.
 *
 * Provisioning thousands of devices costs minutes (one scrypt hash each), and so does their
 * first CONNECT (one scrypt verification each). The started platform therefore keeps its data
 * in the state directory (or --database-url) and the devices' secrets are kept next to it, so
 * a second run reuses them: only the connect cost is paid again.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { connect as mqttConnect, MqttClient } from 'mqtt';
import { connect as netConnect } from 'node:net';
import { ApiClient } from '../api.js';
import { SimulatedCic } from '../cic.js';
import { SimDevice } from '../device.js';
import type { FleetOptions } from '../fleet-args.js';
import { evaluateObjectives, summarizeByProfile, type PressSample } from '../measure.js';
import { seededRandom } from '../network.js';
import { ms } from '../output.js';
import { brokerFor, externalPlatform, histogram, histogramPercentile, scrapeMetrics, startChildPlatform, type PlatformHandle } from '../platform-host.js';
import { Progress } from '../progress.js';
import { mapBounded, provisionFleet, type ProvisionedDevice } from '../provision.js';
import { writeReport, type BenchSection, type RunReport } from '../report.js';
import { summarize, type LatencySummary } from '../stats.js';
import { platformFailed, sleep } from './fleet.js';
import type { ScenarioContext, ScenarioOutcome } from './types.js';

/** Connections per loopback source address: well under the 28k ephemeral ports of one address. */
export const PER_ADDRESS = 20_000;

export function sourceAddresses(devices: number, requested: number): string[] {
  const n = requested > 0 ? requested : Math.max(1, Math.ceil(devices / PER_ADDRESS));
  return Array.from({ length: n }, (_, i) => `127.0.0.${i + 1}`);
}

interface DeviceStore {
  platform: string;
  devices: ProvisionedDevice[];
}

export async function runBench(options: FleetOptions, context: ScenarioContext): Promise<ScenarioOutcome> {
  const { reporter, signal } = context;
  const progress = new Progress(reporter.progressStream);
  const random = seededRandom(options.seed);
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
  const api = new ApiClient(platform.apiUrl, platform.token, { timeoutMs: 60_000 });
  const devices: SimDevice[] = [];
  let cic: SimulatedCic | undefined;
  try {
    const broker = brokerFor(platform, options.tls);
    // ---- devices: reuse, provision the missing ones -------------------------------------------
    const store: DeviceStore = existsSync(storeFile) ? (JSON.parse(await readFile(storeFile, 'utf8')) as DeviceStore) : { platform: key, devices: [] };
    const reused = Math.min(store.devices.length, options.devices);
    const missing = options.devices - reused;
    let provisionMs = 0;
    if (missing > 0) {
      reporter.line(`provision ${missing} devices (${reused} reused from ${storeFile})…`);
      const t0 = performance.now();
      const fresh = await provisionFleet(api, missing, {
        cicId: 'cic-antwerpen',
        concurrency: 8,
        reference: 'device-sim-bench',
        signal,
        onProgress: (n) => progress.update('provision', n / missing, `${n}/${missing}  ${((n / (performance.now() - t0)) * 1000).toFixed(0)} devices/s`),
      });
      provisionMs = performance.now() - t0;
      progress.done();
      store.devices.push(...fresh);
      await mkdir(benchDir, { recursive: true, mode: 0o700 });
      await writeFile(`${storeFile}.tmp`, JSON.stringify(store), { mode: 0o600 });
      await rename(`${storeFile}.tmp`, storeFile);
      reporter.line(`provision ${missing} devices in ${ms(provisionMs)} (${((missing / provisionMs) * 1000).toFixed(1)} devices/s); secrets kept in ${storeFile}`);
    }
    const creds = store.devices.slice(0, options.devices);

    cic = new SimulatedCic(api, platform.token, options.operator);
    await cic.start();

    // ---- connect ---------------------------------------------------------------------------------
    const addresses = sourceAddresses(options.devices, options.addresses);
    for (const [i, c] of creds.entries()) {
      devices.push(
        new SimDevice({
          deviceId: c.deviceId,
          secret: c.secret,
          profile: null,
          ...broker,
          encoding: options.encoding,
          stateDir: join(options.stateDir, 'bench', 'seq'),
          random: seededRandom(options.seed * 7919 + i),
          heartbeatMs: options.heartbeatS * 1000,
          locEveryMs: options.locEveryS * 1000,
          localAddress: addresses[i % addresses.length]!,
          connectTimeoutMs: 600_000,
          keepaliveS: 300,
        }),
      );
    }
    const tc = performance.now();
    let connected = 0;
    let failed = 0;
    await mapBounded(devices, options.connectConcurrency, async (d) => {
      if (signal.aborted) return;
      try {
        await d.start();
        connected += 1;
      } catch (error) {
        failed += 1;
        if (failed <= 3) reporter.error(`connect ${d.options.deviceId}: ${(error as Error).message}`);
      }
      const done = connected + failed;
      if (done % 50 === 0 || done === devices.length) {
        progress.update('connect', done / devices.length, `${connected}/${devices.length} connected, ${failed} failed, ${((done / (performance.now() - tc)) * 1000).toFixed(0)}/s`);
      }
    });
    progress.done();
    const connectMs = performance.now() - tc;
    reporter.line(`connect   ${connected} devices in ${ms(connectMs)} (${((connected / connectMs) * 1000).toFixed(0)}/s; the platform verifies each secret with scrypt once), ${failed} failed, over ${addresses.length} source address(es)`);
    await sleep(2000, signal);
    const rssIdle = await platform.rssBytes();
    if (rssIdle !== undefined) reporter.line(`memory    platform RSS ${(rssIdle / 2 ** 20).toFixed(0)} MiB with ${connected} idle connections`);

    // ---- load ------------------------------------------------------------------------------------
    const before = histogram(await scrapeMetrics(platform.apiUrl, platform.token), 'amr_press_to_received_seconds');
    const heartbeatsBefore = devices.reduce((s, d) => s + d.counters.heartbeats, 0);
    const runMs = options.seconds * 1000;
    const total = Math.floor(options.rate * options.seconds);
    // presses go to devices in a shuffled order, so that each press opens a new alarm
    const order = devices.map((_, i) => i).filter((i) => devices[i]!.button.connected);
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    const origin = performance.now();
    const runs: Array<Promise<PressSample>> = [];
    let rssPeak = rssIdle ?? 0;
    let received = 0;
    const rssTimer = setInterval(() => {
      void platform.rssBytes().then((v) => {
        if (v !== undefined) rssPeak = Math.max(rssPeak, v);
      });
    }, 1000);
    for (let i = 0; i < total && !signal.aborted && order.length > 0; i++) {
      const due = origin + (i / options.rate) * 1000;
      const wait = due - performance.now();
      if (wait > 1) await sleep(wait, signal);
      const device = devices[order[i % order.length]!]!;
      const atMs = performance.now() - origin;
      runs.push(
        device.press({ timeoutMs: options.timeoutS * 1000, retransmitMs: options.retransmitMs, signal }).then((r) => {
          if (r.outcome === 'received') received += 1;
          const alarmEvents = r.alarmId === undefined ? [] : (cic!.pressEvents.get(r.alarmId) ?? []);
          return {
            deviceId: device.options.deviceId,
            profile: 'direct',
            seq: r.seq,
            atMs,
            outcome: r.outcome,
            retransmissions: r.retransmissions,
            duplicated: (r.otherAlarmIds?.length ?? 0) > 0,
            ...(r.latencyMs !== undefined ? { receivedMs: r.latencyMs } : {}),
            ...(r.alarmId !== undefined ? { alarmId: r.alarmId } : {}),
            ...(alarmEvents.length ? {} : {}),
          } satisfies PressSample;
        }),
      );
      if (i % 20 === 0) progress.update('bench', (performance.now() - origin) / runMs, `${received}/${i + 1} presses received, ${connected} connected`);
    }
    const remaining = origin + runMs - performance.now();
    if (remaining > 0) await sleep(remaining, signal);
    const samples = await Promise.all(runs);
    const loadMs = performance.now() - origin;
    clearInterval(rssTimer);
    progress.done();
    await sleep(500, signal);
    // the CIC side: when the alarm.received of each press's alarm arrived
    for (const s of samples) {
      const events = s.alarmId === undefined ? [] : (cic.pressEvents.get(s.alarmId) ?? []);
      const pressedAt = origin + s.atMs;
      const at = events.find((t) => t >= pressedAt - 1);
      if (at !== undefined) s.cicMs = at - pressedAt;
    }
    const after = histogram(await scrapeMetrics(platform.apiUrl, platform.token), 'amr_press_to_received_seconds');
    const heartbeats = devices.reduce((s, d) => s + d.counters.heartbeats, 0) - heartbeatsBefore;
    const server = {
      count: after.count - before.count,
      ...opt('p50', histogramPercentile(before, after, 50)),
      ...opt('p90', histogramPercentile(before, after, 90)),
      ...opt('p99', histogramPercentile(before, after, 99)),
    };

    // ---- baseline ----------------------------------------------------------------------------------
    const receivedMs = summarize(samples.flatMap((s) => (s.receivedMs === undefined ? [] : [s.receivedMs])));
    let baseline: BenchSection['baseline'];
    if (options.baseline) {
      reporter.line(`baseline  QoS 1 echo against ${options.baseline} (${options.baselineSamples} round trips, one in flight)…`);
      const echo = await echoRoundTrips(options.baseline, options.baselineSamples, true);
      // the same without TCP_NODELAY on our socket, to show what Nagle costs against this broker
      const nagle = await echoRoundTrips(options.baseline, Math.min(options.baselineSamples, 500), false);
      baseline = {
        url: options.baseline,
        echoMs: echo,
        withoutNoDelayMs: nagle,
        noDelay: true,
        ratioP50: receivedMs.p50 !== null && echo.p50 ? receivedMs.p50 / echo.p50 : null,
        ratioP99: receivedMs.p99 !== null && echo.p99 ? receivedMs.p99 / echo.p99 : null,
      };
    }

    // ---- close the alarms the bench opened (so that the next run presses into closed ones) ------
    if (options.operator) {
      await cic.sweepOpen();
      await cic.stop(15_000);
    }

    const bench: BenchSection = {
      devices: connected,
      addresses: addresses.length,
      provisioning: { provisioned: missing, reused, ms: Math.round(provisionMs) },
      connect: { ms: Math.round(connectMs), perSecond: (connected / connectMs) * 1000, failed },
      load: {
        seconds: options.seconds,
        rate: options.rate,
        heartbeatS: options.heartbeatS,
        presses: samples.length,
        heartbeats,
        pressesPerS: (received / loadMs) * 1000,
        messagesPerS: ((samples.length + heartbeats) / loadMs) * 1000,
      },
      client: { receivedMs, cicMs: summarize(samples.flatMap((s) => (s.cicMs === undefined ? [] : [s.cicMs]))) },
      server: { pressToReceivedMs: { ...server, ...mapMs(server) } },
      rssMiB: {
        ...(rssIdle !== undefined ? { platformIdle: mib(rssIdle) } : {}),
        ...(rssPeak ? { platformPeak: mib(rssPeak) } : {}),
        simulator: mib(process.memoryUsage().rss),
      },
      ...(baseline ? { baseline } : {}),
    };
    notes.push('Devices connect directly over loopback (no network model): the figures are the platform\'s, not LTE-M\'s.');
    notes.push('The platform runs as its own process; its RSS is read from /proc/<pid>/status (VmRSS).');
    if (options.baseline) notes.push(`Baseline: one mqtt.js client with TCP_NODELAY on its socket publishes QoS 1 to a topic it subscribes to (QoS 1), one message in flight; the broker's own socket options are its own.`);
    const objectives = evaluateObjectives(samples, { cicWatched: true, minPresses: Math.min(total, 1) });
    if (failed > 0) objectives.push({ name: 'devices connected', target: String(options.devices), actual: String(connected), ok: false });
    const report: RunReport = {
      title: `AMR 2.0 device simulator — bench, ${connected} devices`,
      scenario: 'bench',
      startedAt: startedAt.toISOString(),
      settings: { devices: options.devices, seconds: options.seconds, rate: options.rate, heartbeatS: options.heartbeatS, operator: options.operator, platform: platform.kind, database: options.databaseUrl ? 'PostgreSQL' : 'embedded (PGlite)', encoding: options.encoding, cores: (await import('node:os')).cpus().length },
      profiles: {},
      summary: summarizeByProfile(samples),
      samples: samples.map((s) => ({ ...s, atMs: Math.round(s.atMs), ...(s.receivedMs !== undefined ? { receivedMs: Math.round(s.receivedMs * 1000) / 1000 } : {}), ...(s.cicMs !== undefined ? { cicMs: Math.round(s.cicMs * 1000) / 1000 } : {}) })),
      objectives,
      ok: objectives.every((o) => o.ok),
      bench,
      notes,
    };
    for (const line of benchLines(bench)) reporter.line(line);
    for (const o of objectives) reporter.line(`  ${o.ok ? 'ok  ' : 'MISS'} ${o.name}: ${o.actual} (target ${o.target})`);
    if (options.report) {
      const files = await writeReport(options.report, report);
      reporter.line(`report    ${files.html}  (${files.json})`);
    }
    return { exitCode: signal.aborted ? 130 : report.ok ? 0 : 1, result: report };
  } finally {
    await cic?.stop(0);
    await mapBounded(devices, 256, (d) => d.stop());
    await platform.close();
  }
}

export function benchLines(b: BenchSection): string[] {
  const f = (s: LatencySummary) => `p50 ${ms(s.p50)}  p90 ${ms(s.p90)}  p99 ${ms(s.p99)}  max ${ms(s.max)}`;
  const lines = [
    `bench     ${b.devices} devices, ${b.load.seconds} s at ${b.load.rate} presses/s, heartbeat ${b.load.heartbeatS} s: ${b.load.presses} presses, ${b.load.heartbeats} heartbeats, ${b.load.messagesPerS.toFixed(0)} msg/s`,
    `  press → received (device)   ${f(b.client.receivedMs)}`,
    `  press → CIC (SSE)           ${f(b.client.cicMs)}`,
    `  server press → received     p50 ≤ ${ms(b.server.pressToReceivedMs.p50)}  p90 ≤ ${ms(b.server.pressToReceivedMs.p90)}  p99 ≤ ${ms(b.server.pressToReceivedMs.p99)} (histogram buckets, n=${b.server.pressToReceivedMs.count})`,
    `  platform RSS                ${b.rssMiB.platformIdle ?? '—'} MiB idle, ${b.rssMiB.platformPeak ?? '—'} MiB peak; simulator ${b.rssMiB.simulator} MiB`,
  ];
  if (b.baseline) {
    lines.push(`  baseline QoS 1 echo         ${f(b.baseline.echoMs)}  (${b.baseline.url})`);
    if (b.baseline.withoutNoDelayMs) lines.push(`  … without TCP_NODELAY       ${f(b.baseline.withoutNoDelayMs)}`);
    lines.push(`  ratio AMR / baseline        p50 ×${b.baseline.ratioP50?.toFixed(1) ?? '—'}  p99 ×${b.baseline.ratioP99?.toFixed(1) ?? '—'}`);
  }
  return lines;
}

/**
 * QoS 1 echo: publish to a topic this client subscribes to, wait for it to come back, repeat.
 * The same mqtt.js options as the buttons (MQTT 3.1.1, TCP_NODELAY on our socket).
 */
export async function echoRoundTrips(url: string, samples: number, noDelay: boolean): Promise<LatencySummary> {
  const target = new URL(url);
  const host = target.hostname;
  const port = Number(target.port || 1883);
  const client = new MqttClient(() => netConnect({ host, port, noDelay }) as never, {
    protocolVersion: 4,
    clean: true,
    clientId: `amr-sim-echo-${process.pid}`,
    reconnectPeriod: 0,
    connectTimeout: 10_000,
  });
  void mqttConnect; // (the URL form is what the buttons use; the stream form sets noDelay before CONNECT)
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

function opt(key: string, seconds: number | undefined): Record<string, number> {
  return seconds === undefined || !Number.isFinite(seconds) ? {} : { [key]: seconds };
}

function mapMs(s: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const k of ['p50', 'p90', 'p99']) if (s[k] !== undefined) out[k] = s[k]! * 1000;
  return out;
}

function mib(bytes: number): number {
  return Math.round((bytes / 2 ** 20) * 10) / 10;
}
