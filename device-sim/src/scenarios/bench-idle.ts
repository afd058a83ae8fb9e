/**
 * `bench --idle N[,N…]`: memory per connected idle device. Idle devices are raw MQTT clients
 * (raw-mqtt.ts: a socket and a parser each, one keepalive timer for all) that connect with their
 * own credentials and a persistent session, subscribe to their ack and cmd topics, and ping at
 * the keepalive. For each count the platform process's RSS (and V8 heap, from its metrics) is
 * read after IDLE_WINDOW_S of quiet before the first connection, once the count is connected, and
 * again after the devices have been idle for IDLE_WINDOW_S: connecting leaves garbage that V8 only collects once the
 * process has stayed quiet for a while, so the first reading is the connect burst's and the
 * second the fleet's while it is idle (the target's figure). The plain broker (--baseline) is
 * measured the same way with as many anonymous clients, from its process's /proc/<pid>/status.
 * Counts that an open-files limit (`ulimit -n`) rules out are reported as such instead of
 * failing half-way.
 */
import { performance } from 'node:perf_hooks';
import { deviceTopic } from '@amr/protocol';
import type { IdleSection, IdleStep, MemoryFigure } from '../bench-report.js';
import type { FleetOptions } from '../fleet-args.js';
import { metricValue, scrapeMetrics, type PlatformHandle } from '../platform-host.js';
import { listenerPid, openFilesLimit, procRss } from '../procfs.js';
import type { Progress } from '../progress.js';
import { mapBounded, type ProvisionedDevice } from '../provision.js';
import { IdlePool, RawMqttClient } from '../raw-mqtt.js';
import { sleep } from './fleet.js';

/** Keepalive of the idle devices, s (a button asleep in PSM keeps a long one). */
export const IDLE_KEEPALIVE_S = 300;

/**
 * How long the devices stay idle before the second reading, s. V8 collects a burst's garbage once
 * allocation has stayed low for some tens of seconds (its memory reducer): after connecting 10,000
 * devices the platform's heap held 283 MiB, 151 MiB some 40 s after the last connect, and no less
 * afterwards.
 */
export const IDLE_WINDOW_S = 90;

/** Descriptors a process needs besides its device connections (stdio, HTTP, database pool, listeners). */
export const FD_MARGIN = { simulator: 256, platform: 256, baseline: 64 } as const;

export type Limit = { soft: number; hard: number } | undefined;

/**
 * Which counts each side can hold, by the open-files limits: a count needs count + margin
 * descriptors in the simulator and in the measured process. Returns why a step is skipped.
 */
export function planIdleSteps(
  counts: readonly number[],
  limits: { simulator: Limit; platform: Limit; baseline?: Limit },
  withBaseline: boolean,
): Array<{ devices: number; platformSkipped?: string; baselineSkipped?: string }> {
  const short = (count: number, who: keyof typeof FD_MARGIN, limit: Limit): string | undefined => {
    if (!limit || count + FD_MARGIN[who] <= limit.soft) return undefined;
    const need = count + FD_MARGIN[who];
    const raise = need <= limit.hard ? `raise it with ulimit -n ${need}` : `its hard limit is ${limit.hard}: raise that first (as root, /etc/security/limits.conf or the service's LimitNOFILE)`;
    return `not measured: ulimit -n of the ${who === 'baseline' ? 'plain broker' : who} is ${limit.soft}; ${count.toLocaleString('en-US')} connections need ≥ ${need} (${raise})`;
  };
  return counts.map((devices) => {
    const platformSkipped = short(devices, 'simulator', limits.simulator) ?? short(devices, 'platform', limits.platform);
    const baselineSkipped = withBaseline ? (short(devices, 'simulator', limits.simulator) ?? short(devices, 'baseline', limits.baseline)) : undefined;
    return { devices, ...(platformSkipped ? { platformSkipped } : {}), ...(baselineSkipped ? { baselineSkipped } : {}) };
  });
}

export interface IdleSetup {
  options: FleetOptions;
  platform: PlatformHandle;
  /** Credentials, at least as many as the largest count the platform is measured at. */
  creds: readonly ProvisionedDevice[];
  addresses: readonly string[];
  progress: Progress;
  log: (line: string) => void;
  signal: AbortSignal;
}

/** The open-files limits that decide which counts can be measured (the started platform inherits the simulator's). */
export async function idleLimits(platform: PlatformHandle, baseline: string | undefined): Promise<{ simulator: Limit; platform: Limit; baseline?: Limit; baselinePid?: number }> {
  const simulator = await openFilesLimit('self');
  const platformLimit = platform.pid !== undefined ? await openFilesLimit(platform.pid) : undefined;
  if (baseline === undefined) return { simulator, platform: platformLimit };
  const pid = await listenerPid(Number(new URL(baseline).port || 1883), 'mosquitto');
  return { simulator, platform: platformLimit, baseline: pid === undefined ? undefined : await openFilesLimit(pid), ...(pid !== undefined ? { baselinePid: pid } : {}) };
}

export async function runIdle(setup: IdleSetup): Promise<IdleSection> {
  const { options, platform } = setup;
  const limits = await idleLimits(platform, options.baseline);
  const plan = planIdleSteps(options.idle, limits, options.baseline !== undefined);
  const steps: IdleStep[] = plan.map((p) => ({ ...p }));
  for (const step of steps) {
    if (step.platformSkipped) setup.log(`idle      platform at ${step.devices}: ${step.platformSkipped}`);
    if (step.baselineSkipped) setup.log(`idle      baseline at ${step.devices}: ${step.baselineSkipped}`);
  }

  // ---- the platform: its devices, with their own credentials --------------------------------------
  const platformMemory = async () => ({
    rss: await platform.rssBytes(),
    heap: metricValue(await scrapeMetrics(platform.apiUrl, platform.token).catch(() => ''), 'amr_nodejs_heap_size_used_bytes'),
  });
  await measureSteps(setup, steps, 'platform', {
    target: platform.mqtt,
    memory: platformMemory,
    client: (i) => {
      const c = setup.creds[i]!;
      return { clientId: c.deviceId, username: c.deviceId, password: c.secret, topics: [deviceTopic(c.deviceId, 'ack'), deviceTopic(c.deviceId, 'cmd')] };
    },
  });

  // ---- the plain broker: as many anonymous clients, the same session and subscriptions ------------
  let baselineClientsBefore: number | undefined;
  if (options.baseline) {
    const url = new URL(options.baseline);
    const target = { host: url.hostname, port: Number(url.port || 1883) };
    const pid = limits.baselinePid;
    if (pid === undefined) {
      for (const s of steps) s.baselineSkipped ??= `not measured: no process found listening on port ${target.port} whose /proc this user can read`;
    } else {
      baselineClientsBefore = await brokerClients(target);
      const id = (i: number) => `amr-sim-idle-${process.pid}-${i}`;
      await measureSteps(setup, steps, 'baseline', {
        target,
        memory: async () => ({ rss: await procRss(pid) }),
        client: (i) => ({ clientId: id(i), topics: [deviceTopic(id(i), 'ack'), deviceTopic(id(i), 'cmd')] }),
      });
      // the broker keeps persistent sessions: a clean-session connect of each id removes them
      const measured = Math.max(0, ...steps.map((s) => s.baseline?.connected ?? 0));
      await mapBounded(Array.from({ length: measured }, (_, i) => i), options.connectConcurrency, async (i) => {
        const c = new RawMqttClient(IDLE_KEEPALIVE_S);
        await c.connect({ ...target, localAddress: setup.addresses[i % setup.addresses.length]!, clientId: id(i), clean: true, keepaliveS: IDLE_KEEPALIVE_S }).catch(() => undefined);
        await c.end();
      });
    }
  }
  return {
    keepaliveS: IDLE_KEEPALIVE_S,
    idleS: IDLE_WINDOW_S,
    openFiles: {
      ...(limits.simulator ? { simulator: limits.simulator } : {}),
      ...(limits.platform ? { platform: limits.platform } : {}),
      ...(limits.baseline ? { baseline: limits.baseline } : {}),
    },
    ...(limits.baselinePid !== undefined ? { baselinePid: limits.baselinePid } : {}),
    ...(baselineClientsBefore !== undefined ? { baselineClientsBefore } : {}),
    steps,
  };
}

interface Side {
  target: { host: string; port: number };
  memory: () => Promise<{ rss: number | undefined; heap?: number | undefined }>;
  client: (i: number) => { clientId: string; username?: string; password?: string; topics: string[] };
}

/** Connects the counts of `steps` one after another (cumulatively) and reads the memory at each. */
async function measureSteps(setup: IdleSetup, steps: IdleStep[], side: 'platform' | 'baseline', s: Side): Promise<void> {
  const skipKey = side === 'platform' ? 'platformSkipped' : 'baselineSkipped';
  const todo = steps.filter((step) => !step[skipKey]);
  if (todo.length === 0) return;
  const pool = new IdlePool();
  try {
    // read as the idle figure is: after the same quiet, with the start-up's garbage collected
    const before = await idleFor(IDLE_WINDOW_S, s.memory, setup.signal, (at, m) => setup.progress.update(`idle ${side}`, at / IDLE_WINDOW_S, `before connecting, idle ${at} s: RSS ${mib(m.rss)} MiB`));
    setup.progress.done();
    if (before.rss === undefined) {
      for (const step of todo) step[skipKey] = `not measured: the ${side}'s memory cannot be read`;
      return;
    }
    let connected = 0;
    for (const step of todo) {
      if (setup.signal.aborted) break;
      const t0 = performance.now();
      let failed = 0;
      let firstError: string | undefined;
      await mapBounded(Array.from({ length: step.devices - connected }, (_, k) => connected + k), setup.options.connectConcurrency, async (i) => {
        if (setup.signal.aborted) return;
        const spec = s.client(i);
        const client = new RawMqttClient(IDLE_KEEPALIVE_S);
        try {
          await client.connect({
            ...s.target,
            localAddress: setup.addresses[i % setup.addresses.length]!,
            clientId: spec.clientId,
            ...(spec.username !== undefined ? { username: spec.username } : {}),
            ...(spec.password !== undefined ? { password: spec.password } : {}),
            clean: false,
            keepaliveS: IDLE_KEEPALIVE_S,
          });
          await client.subscribe(spec.topics);
          pool.add(client);
        } catch (error) {
          failed += 1;
          firstError ??= (error as Error).message;
          client.destroy();
        }
        const done = i + 1;
        if (done % 500 === 0 || done === step.devices) setup.progress.update(`idle ${side}`, done / step.devices, `${pool.connected}/${step.devices} connected, ${failed} failed`);
      });
      setup.progress.done();
      const connectMs = performance.now() - t0;
      connected = step.devices;
      if (failed) setup.log(`idle      ${side}: ${failed} of ${step.devices} did not connect (first: ${firstError})`);
      await sleep(3000, setup.signal);
      const burst = await settled(s.memory);
      const live = pool.connected;
      const perDevice = (bytes: number, base: number): number => (live ? (bytes - base) / 1024 / live : 0);
      const rss = (m: { rss: number | undefined }): number => m.rss ?? before.rss!;
      setup.log(`idle      ${side}: ${live} connected in ${(connectMs / 1000).toFixed(1)} s; RSS ${mib(before.rss)} → ${mib(rss(burst))} MiB = ${perDevice(rss(burst), before.rss).toFixed(1)} KiB per device; idle for ${IDLE_WINDOW_S} s…`);
      const idle = await idleFor(IDLE_WINDOW_S, s.memory, setup.signal, (at, m) => setup.progress.update(`idle ${side}`, at / IDLE_WINDOW_S, `idle ${at} s: RSS ${mib(m.rss)} MiB`));
      setup.progress.done();
      const heap = before.heap !== undefined && idle.heap !== undefined ? { before: before.heap, after: idle.heap } : undefined;
      const figure: MemoryFigure = {
        connected: live,
        rssBeforeKiB: before.rss / 1024,
        rssConnectedKiB: rss(burst) / 1024,
        kibPerDeviceConnected: perDevice(rss(burst), before.rss),
        rssAfterKiB: rss(idle) / 1024,
        kibPerDevice: perDevice(rss(idle), before.rss),
        ...(heap ? { heapBeforeKiB: heap.before / 1024, heapAfterKiB: heap.after / 1024, heapKibPerDevice: perDevice(heap.after, heap.before) } : {}),
        connectMs,
        failed,
      };
      step[side] = figure;
      setup.log(`idle      ${side}: after ${IDLE_WINDOW_S} s idle RSS ${mib(rss(idle))} MiB = ${figure.kibPerDevice.toFixed(1)} KiB per device${figure.heapKibPerDevice !== undefined ? ` (heap ${figure.heapKibPerDevice.toFixed(1)} KiB)` : ''}`);
    }
  } finally {
    await pool.close();
  }
}

const mib = (bytes: number | undefined): string => (bytes === undefined ? '?' : (bytes / 1048576).toFixed(0));

/** Memory after `seconds` (a multiple of 5, at least 5) with the devices idle, read every 5 s on the way. */
async function idleFor(
  seconds: number,
  read: Side['memory'],
  signal: AbortSignal,
  onRead: (atS: number, m: { rss: number | undefined }) => void,
): Promise<{ rss: number | undefined; heap?: number | undefined }> {
  for (let at = 5; ; at += 5) {
    await sleep(5000, signal);
    const m = await read();
    onRead(at, m);
    if (at >= seconds || signal.aborted) return m;
  }
}

/** Memory once it stops moving: two reads 1 s apart within 1 %, at most 10 s. */
async function settled(read: Side['memory']): Promise<{ rss: number | undefined; heap?: number | undefined }> {
  let last = await read();
  for (let i = 0; i < 10; i++) {
    await sleep(1000);
    const now = await read();
    if (last.rss === undefined || now.rss === undefined || Math.abs(now.rss - last.rss) <= last.rss * 0.01) return now;
    last = now;
  }
  return last;
}

/** The client count a Mosquitto-style broker publishes in `$SYS/broker/clients/connected` (retained), if it does within 2 s. */
async function brokerClients(target: { host: string; port: number }): Promise<number | undefined> {
  const client = new RawMqttClient(60);
  try {
    await client.connect({ ...target, clientId: `amr-sim-sys-${process.pid}`, clean: true, keepaliveS: 60, timeoutMs: 5000 });
    const value = new Promise<number | undefined>((resolve) => {
      client.onPacket = (p) => {
        if (p.cmd === 'publish' && p.topic === '$SYS/broker/clients/connected') resolve(Number(String(p.payload)));
      };
      setTimeout(() => resolve(undefined), 2000);
    });
    await client.subscribe(['$SYS/broker/clients/connected']);
    return await value;
  } catch {
    return undefined;
  } finally {
    await client.end();
  }
}
