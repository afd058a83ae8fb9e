/**
 * Scenario `failover`: several platform nodes on one PostgreSQL and one Redis (cluster-host.ts),
 * buttons that hold every node as a broker endpoint (half of them list node 1 first, half node
 * 2 …: CONTRACT §1), presses at a steady rate while the simulated CIC — a CIC integration with its
 * own token — confirms delivery, accepts and later closes every alarm. Every few seconds one node
 * is killed with SIGKILL, in turn, and started again at once; with --kill-redis, Redis too,
 * half-way. Measured: presses lost or duplicated (the exit code), every `accepted` reaching its
 * device, how long the devices of a killed node take to be connected again, press → `received`
 * right after a kill against steady state, and what the Redis outage did.
 *
 * `runFailover` is the programmatic entry (tests call it with small numbers); the CLI goes
 * through `runFailoverScenario`.
 */
import { Writable } from 'node:stream';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { performance } from 'node:perf_hooks';
import type { Encoding } from '@amr/protocol';
import { ApiClient } from '../api.js';
import { SimulatedCic } from '../cic.js';
import { startCluster, waitHealthy, type Cluster, type ClusterNode } from '../cluster-host.js';
import { SimDevice } from '../device.js';
import { brokerAddress } from '../endpoints.js';
import { failoverTables, pressesOutside, pressWindow, reconnectTimes, type FailoverSection, type KillRecord, type RedisPhase } from '../failover-report.js';
import type { FleetOptions } from '../fleet-args.js';
import { markExtraAlarms, samplesOf, summarizeByProfile, type Objective } from '../measure.js';
import { PROFILES, seededRandom, type ProfileName } from '../network.js';
import { ms, Reporter, textTable } from '../output.js';
import { runPaced } from '../pacing.js';
import { DeviceRotation, PressTracker, shuffled } from '../press-tracker.js';
import { Progress } from '../progress.js';
import { createCases, mapBounded, provisionForCases } from '../provision.js';
import { startRedis, type RedisHandle } from '../redis-host.js';
import { writeReport, type RunReport } from '../report.js';
import { summarize } from '../stats.js';
import { reportSamples } from './bench.js';
import { sleep, waitFor } from './fleet.js';
import type { ScenarioContext, ScenarioOutcome } from './types.js';

export interface FailoverOptions {
  devices: number;
  /** Presses sent in all (the run lasts until they are: presses ÷ rate seconds, plus the stragglers). */
  presses: number;
  /** Presses per second over the fleet. */
  rate: number;
  /** Nodes started (ignored with `api`). */
  nodes: number;
  /** A node is killed (in turn) and restarted every S s; 0: never. */
  killEveryS: number;
  /** Kill and restart Redis half-way (a Redis the scenario starts). */
  killRedis: boolean;
  /** PostgreSQL shared by the started nodes (required without `api`). */
  databaseUrl?: string;
  /** Redis shared by the started nodes; default: one the scenario starts. */
  redisUrl?: string;
  /** Running nodes instead: their APIs and brokers, in node order, and the admin token. */
  api?: { urls: string[]; mqttUrls: string[]; token: string };
  /** A press without `received` after this is lost, s. */
  timeoutS: number;
  retransmitMs: number;
  /** The simulated operator: accept after, close after (ms); null: nobody works the alarms. */
  operator: { acceptMs: number; closeMs: number } | null;
  /** Network profiles the devices take in turn; empty: direct connections (the nodes' figures). */
  profiles: ProfileName[];
  devicesPerCase: number;
  heartbeatS: number;
  /** Press → received "after a kill" is the presses sent within this span after it, ms. */
  windowMs: number;
  seed: number;
  encoding: Encoding;
  stateDir: string;
  report?: string;
  verbose: boolean;
}

export const FAILOVER_DEFAULTS: Readonly<FailoverOptions> = Object.freeze({
  devices: 1000,
  presses: 2000,
  rate: 50,
  nodes: 2,
  killEveryS: 15,
  killRedis: false,
  timeoutS: 30,
  retransmitMs: 5000,
  operator: { acceptMs: 2000, closeMs: 2000 },
  profiles: [],
  devicesPerCase: 10,
  heartbeatS: 60,
  windowMs: 5000,
  seed: 1,
  encoding: 'cbor',
  stateDir: join(tmpdir(), 'amr-sim-failover'),
  verbose: false,
});

export type FailoverResult = RunReport & { failover: FailoverSection };

/** A node that will not start is tried this many times (once a second) before the run gives up on it. */
const MAX_START_ATTEMPTS = 60;

/** A device counts as busy this long after its alarm opened, if no `closed` comes (then it presses again). */
const OPEN_ALARM_HOLD_MS = 30_000;

/** The CLI entry: FleetOptions in, exit code out (1 when a press was lost or duplicated). */
export async function runFailoverScenario(options: FleetOptions, context: ScenarioContext): Promise<ScenarioOutcome> {
  const result = await runFailover(
    {
      devices: options.devices,
      presses: options.presses,
      rate: options.rate,
      nodes: options.nodes,
      killEveryS: options.killEveryS,
      killRedis: options.killRedis,
      ...(options.databaseUrl ? { databaseUrl: options.databaseUrl } : {}),
      ...(options.redisUrl ? { redisUrl: options.redisUrl } : {}),
      ...(options.api ? { api: { urls: options.apiUrls ?? [options.api.url], mqttUrls: options.mqttUrls ?? [], token: options.api.token } } : {}),
      timeoutS: options.timeoutS,
      retransmitMs: options.retransmitMs,
      operator: options.operator ? { acceptMs: options.operator.acceptMs, closeMs: options.operator.closeMs } : null,
      profiles: options.profiles,
      devicesPerCase: options.devicesPerCase,
      heartbeatS: options.heartbeatS,
      seed: options.seed,
      encoding: options.encoding,
      stateDir: join(options.stateDir, 'failover'),
      ...(options.report ? { report: options.report } : {}),
      verbose: options.verbose,
    },
    context,
  ).catch((error: Error) => {
    context.reporter.error(`failover  ${error.message}`);
    return undefined;
  });
  if (!result) return { exitCode: 1, result: { ok: false, error: { kind: 'failover', message: 'the run could not be set up' } } };
  return { exitCode: context.signal.aborted ? 130 : result.ok ? 0 : 1, result };
}

/**
 * Runs the scenario. Throws when it cannot be set up (no database, a node that does not start);
 * otherwise returns what it saw, `ok` false when a press was lost or duplicated.
 */
export async function runFailover(input: Partial<FailoverOptions>, context: Partial<ScenarioContext> = {}): Promise<FailoverResult> {
  const options: FailoverOptions = { ...FAILOVER_DEFAULTS, ...input };
  if (!options.api && !options.databaseUrl) throw new Error('failover needs databaseUrl (the nodes share PostgreSQL) or api (running nodes)');
  if (options.api && options.api.urls.length !== options.api.mqttUrls.length) throw new Error('api: as many HTTP as MQTT URLs, one pair per node');
  const silent = new Writable({ write: (_c, _e, done) => done() });
  const reporter = context.reporter ?? new Reporter(false, silent, silent);
  const signal = context.signal ?? new AbortController().signal;
  const progress = new Progress(reporter.progressStream);
  const startedAt = new Date();
  const random = seededRandom(options.seed);
  const notes: string[] = [];
  const t0 = performance.now();

  // ---- Redis and the nodes ---------------------------------------------------------------------
  let redis: RedisHandle | undefined;
  let cluster: Cluster | undefined;
  const unexpectedExits: FailoverSection['unexpectedExits'] = [];
  let origin = performance.now(); // the load phase's start, set below
  let originWall = Date.now();
  const restarting = new Set<Promise<void>>();
  /**
   * Starts a node again until it is up, once a second, as a supervisor (systemd, Kubernetes)
   * would: a node may refuse to start for a while (Redis or the database unreachable at start-up).
   */
  const startUntilUp = async (node: { id: string; start(): Promise<void> }): Promise<void> => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await node.start();
      } catch (error) {
        if (signal.aborted || attempt >= MAX_START_ATTEMPTS) throw error;
        reporter.error(`failover  ${node.id} did not start (attempt ${attempt}): ${(error as Error).message.split('\n')[0]}; again in 1 s`);
        await sleep(1000, signal).catch(() => undefined);
      }
    }
  };
  const devices: SimDevice[] = [];
  let cic: SimulatedCic | undefined;
  try {
    let nodes: Array<{ id: string; api: string; mqtt: string }>;
    let token: string;
    if (options.api) {
      nodes = options.api.urls.map((api, i) => ({ id: `node-${i + 1}`, api, mqtt: options.api!.mqttUrls[i]! }));
      token = options.api.token;
      reporter.line(`nodes     ${nodes.map((n) => `${n.id} ${n.api} ${n.mqtt}`).join(', ')} (given: nothing is killed)`);
    } else {
      let redisUrl = options.redisUrl;
      if (options.killRedis || !redisUrl) {
        redis = await startRedis();
        redisUrl = redis.url;
        reporter.line(`redis     started its own: ${redis.url} (pid ${redis.pid}, no persistence)`);
      }
      const tc = performance.now();
      cluster = await startCluster({
        nodes: options.nodes,
        databaseUrl: options.databaseUrl!,
        redisUrl,
        ...(options.verbose ? { onOutput: (node: ClusterNode, line: string) => reporter.error(`[${node.id}] ${line}`) } : {}),
        onExit: (node, { code, signal: how }, expected) => {
          if (expected || !cluster) return;
          unexpectedExits.push({ node: node.id, atMs: performance.now() - origin, how: how ?? `code ${code}` });
          reporter.error(`\nfailover  ${node.id} exited on its own (${how ?? `code ${code}`}): starting it again\n${node.tail.slice(-5).join('\n')}`);
          track(restarting, startUntilUp(node).catch((error: Error) => reporter.error(`failover  ${node.id} could not be started again: ${error.message}`)));
        },
      });
      nodes = cluster.nodes.map((n) => ({ id: n.id, api: n.apiUrl, mqtt: n.mqttUrl }));
      token = cluster.adminToken;
      reporter.line(`nodes     ${cluster.nodes.length} started in ${ms(performance.now() - tc)} on PostgreSQL and ${redisUrl}: ${cluster.nodes.map((n) => `${n.id} (pid ${n.pid}) ${n.apiUrl} ${n.mqttUrl}`).join(', ')}`);
    }
    const apiUrls = nodes.map((n) => n.api);
    const admin = new ApiClient(apiUrls, token, { timeoutMs: 60_000 });

    // ---- the CIC integration, the devices ----------------------------------------------------------
    let cicToken = token;
    try {
      const integration = await admin.post<{ token?: string }>('/api/v1/integrations', { cicId: 'cic-antwerpen', name: 'device-sim failover' });
      if (typeof integration.body?.token !== 'string') throw new Error('the answer has no token');
      cicToken = integration.body.token;
    } catch (error) {
      notes.push(`No integration token (${(error as Error).message}): the CIC used the admin token, so delivery confirmations are refused.`);
    }
    const tp = performance.now();
    const caseIds = await createCases(admin, Math.ceil(options.devices / options.devicesPerCase), { cicId: 'cic-antwerpen', reference: 'device-sim-failover', concurrency: 16, signal });
    const perDevice = Array.from({ length: options.devices }, (_, i) => caseIds[Math.floor(i / options.devicesPerCase)]!);
    const { devices: creds } = await provisionForCases(admin, perDevice, { signal, onProgress: (n) => progress.update('provision', n / options.devices, `${n}/${options.devices}`) });
    progress.done();
    reporter.line(`provision ${options.devices} devices (${caseIds.length} cases) in ${ms(performance.now() - tp)}`);

    // the CIC starts on the last node, the devices' first choice is spread over all of them
    const cicApi = new ApiClient([...apiUrls.slice(1), apiUrls[0]!], cicToken, { timeoutMs: 30_000 });
    cic = new SimulatedCic(cicApi, cicToken, options.operator ? { acceptMs: options.operator.acceptMs, dispatchMs: 0, closeMs: options.operator.closeMs } : null, { confirmDelivery: () => cicApi, dispatch: false });
    await cic.start();

    const targets = nodes.map((n) => (({ host, port }) => ({ host, port }))(brokerAddress(n.mqtt)));
    const firstNode = (i: number) => i % nodes.length;
    for (const [i, c] of creds.entries()) {
      const own = [...targets.slice(firstNode(i)), ...targets.slice(0, firstNode(i))];
      const profile = options.profiles.length ? PROFILES[options.profiles[i % options.profiles.length]!] : null;
      devices.push(
        new SimDevice({
          deviceId: c.deviceId,
          secret: c.secret,
          profile,
          target: own[0]!,
          targets: own,
          encoding: options.encoding,
          stateDir: options.stateDir,
          random: seededRandom(options.seed * 7919 + i),
          heartbeatMs: options.heartbeatS * 1000,
          locEveryMs: 30_000,
          connectTimeoutMs: 60_000,
          keepaliveS: 60,
          keepAckLog: false,
        }),
      );
    }
    /** The node a device is connected to now (index in `nodes`), undefined while it is not. */
    const nodeOf = (i: number): number | undefined => {
      const e = devices[i]!.connectedEndpoint;
      return e === undefined ? undefined : (firstNode(i) + e) % nodes.length;
    };
    const tc = performance.now();
    let connected = 0;
    await mapBounded(devices, 64, async (d) => {
      await d.start();
      progress.update('connect', ++connected / devices.length, `${connected}/${devices.length}`);
    });
    progress.done();
    reporter.line(`connect   ${devices.length} devices in ${ms(performance.now() - tc)}: ${nodes.map((n, k) => `${devices.filter((_, i) => nodeOf(i) === k).length} on ${n.id}`).join(', ')}`);

    // ---- what each device sees ---------------------------------------------------------------------
    const tracker = new PressTracker(devices.length, { timeoutMs: options.timeoutS * 1000, retransmitMs: options.retransmitMs });
    const openSince: Array<number | undefined> = devices.map(() => undefined);
    const acceptedSeen = new Set<string>();
    /** Alarms whose device was told they were closed (it may have missed `accepted` and still show the truth). */
    const closedSeen = new Set<string>();
    const connectTimes: number[][] = devices.map(() => []);
    /** Per connection of each device (as connectTimes): from opening its transport to its SUBACK, ms. */
    const attemptTimes: number[][] = devices.map(() => []);
    /** When each device's transports closed: a lost connection, or an attempt that failed. */
    const closeTimes: number[][] = devices.map(() => []);
    const offlineTimes: number[] = [];
    devices.forEach((d, i) => {
      d.button.on('ack', ({ ack, at }) => {
        tracker.ack(i, ack, at);
        if (ack.stage === 'received') openSince[i] ??= at;
        if (ack.stage === 'accepted' && ack.alarm !== undefined) acceptedSeen.add(ack.alarm);
        if (ack.stage === 'closed') openSince[i] = undefined;
        if (ack.stage === 'closed' && ack.alarm !== undefined) closedSeen.add(ack.alarm);
      });
      d.button.on('connect', ({ attemptMs }) => {
        connectTimes[i]!.push(performance.now());
        attemptTimes[i]!.push(attemptMs);
      });
      d.button.on('transport-closed', () => closeTimes[i]!.push(performance.now()));
      d.button.on('offline', () => offlineTimes.push(performance.now()));
    });
    const counters = () => devices.reduce((c, d) => ({ lost: c.lost + d.counters.offline, reconnected: c.reconnected + d.counters.reconnects }), { lost: 0, reconnected: 0 });
    const before = counters();

    // ---- load, kills, Redis ------------------------------------------------------------------------
    const busy = (i: number) => tracker.unanswered(i) > 0 || (openSince[i] !== undefined && performance.now() - openSince[i]! < OPEN_ALARM_HOLD_MS);
    const rotation = new DeviceRotation(shuffled(devices.map((_, i) => i), random), busy);
    const nextSeq = devices.map(() => 1);
    const sweeper = setInterval(() => tracker.sweep(performance.now(), (p) => devices[p.device]!.sendPress(p.seq, p.ts)), 50);
    const plannedMs = (options.presses / options.rate) * 1000;
    origin = performance.now();
    originWall = Date.now();
    let sendingDone = false;

    const kills: Array<KillRecord & { at: number; on: number[] }> = [];
    const killLoop = (async () => {
      if (!cluster || options.killEveryS <= 0) return;
      for (let k = 0; !sendingDone && !signal.aborted; k++) {
        await sleep(Math.max(0, origin + (k + 1) * options.killEveryS * 1000 - performance.now()), signal);
        if (sendingDone || signal.aborted) break;
        await Promise.all([...restarting]);
        const node = cluster.nodes[k % cluster.nodes.length]!;
        const on = devices.flatMap((_, i) => (nodeOf(i) === node.index ? [i] : []));
        const at = performance.now();
        const record: KillRecord & { at: number; on: number[] } = { node: node.id, atMs: at - origin, devicesOn: on.length, reconnected: 0, reconnectMs: summarize([]), nodeBackMs: null, at, on };
        kills.push(record);
        reporter.error(`\nkill      ${node.id} (pid ${node.pid}) at ${(record.atMs / 1000).toFixed(1)} s, ${on.length} devices on it`);
        try {
          await node.kill();
          await startUntilUp(node);
          record.nodeBackMs = performance.now() - at;
        } catch (error) {
          record.error = (error as Error).message.split('\n')[0]!;
          reporter.error(`kill      ${node.id} did not come back: ${record.error}`);
        }
      }
    })();

    let redisPhase: (RedisPhase & { at: number; backAt: number }) | undefined;
    const redisLoop = (async () => {
      if (!redis || !options.killRedis || !cluster) return;
      // half-way, and between two node kills so that the two outages can be told apart
      const half = plannedMs / 2;
      const atMs = options.killEveryS > 0 ? (Math.floor(half / (options.killEveryS * 1000)) + 0.5) * options.killEveryS * 1000 : half;
      await sleep(Math.max(0, origin + atMs - performance.now()), signal);
      if (signal.aborted) return;
      const at = performance.now();
      const exitsBefore = unexpectedExits.length;
      reporter.error(`\nredis     killed (SIGKILL) at ${((at - origin) / 1000).toFixed(1)} s, restarting it`);
      const phase = { atMs: at - origin, downMs: 0, nodesHealthyMs: null as number | null, at, backAt: at, window: pressWindow([], []), disconnects: 0, nodeExits: 0 } as RedisPhase & { at: number; backAt: number };
      redisPhase = phase;
      try {
        await redis.kill();
        await redis.start();
        phase.backAt = performance.now();
        phase.downMs = phase.backAt - at;
        await Promise.all(cluster.nodes.map((n) => waitHealthy(n.apiUrl, 60_000)));
        phase.nodesHealthyMs = performance.now() - at;
      } catch (error) {
        phase.error = (error as Error).message.split('\n')[0]!;
      }
      await sleep(options.windowMs, signal);
      phase.nodeExits = unexpectedExits.length - exitsBefore;
    })();

    try {
      let sent = 0;
      while (sent < options.presses && !signal.aborted) {
        let lastDraw = 0;
        const result = await runPaced({
          rate: options.rate,
          durationMs: ((options.presses - sent) / options.rate) * 1000,
          signal,
          send: (n) => {
            let done = 0;
            for (; done < n; done++) {
              const i = rotation.next();
              if (i < 0) break;
              const seq = nextSeq[i]!++;
              const ts = Math.floor(Date.now() / 1000);
              devices[i]!.sendPress(seq, ts);
              tracker.sent(i, seq, ts, performance.now(), 'load');
            }
            return done;
          },
          onTick: (elapsedMs) => {
            const now = performance.now();
            if (now - lastDraw < 250) return;
            lastDraw = now;
            const online = devices.filter((d) => d.button.connected).length;
            const answered = tracker.presses.length - tracker.pending;
            progress.update('failover', tracker.presses.length / options.presses, `${((now - origin) / 1000).toFixed(0)} s  sent ${tracker.presses.length}/${options.presses}  answered ${answered}  online ${online}/${devices.length}  kills ${kills.length}${redisPhase ? '  redis killed' : ''}`);
            void elapsedMs;
          },
        });
        sent += result.sent;
        if (result.sent === 0) await sleep(200, signal); // every device busy: wait for answers
      }
      sendingDone = true;
      await killLoop;
      await redisLoop;
      await Promise.all([...restarting]);
      // the presses in flight get their answer or time out (the sweeper declares them lost)
      await waitFor(() => tracker.pending === 0, options.timeoutS * 1000 + 1000, signal);
    } finally {
      sendingDone = true;
      clearInterval(sweeper);
    }
    progress.update('failover', 1, `sent ${tracker.presses.length}, answered ${tracker.presses.length - tracker.pending}`);
    progress.done();
    if (signal.aborted) tracker.abortPending();

    // the operator's accepts reach their devices, and closes follow (bounded)
    if (options.operator) {
      await waitFor(() => [...cic!.acceptedAt.keys()].every((id) => acceptedSeen.has(id)), options.operator.acceptMs + options.operator.closeMs + 15_000, signal);
    }
    await sleep(1000, signal); // late events at the CIC

    // ---- figures ----------------------------------------------------------------------------------
    const presses = tracker.presses;
    const samples = samplesOf(presses, cic.arrivals, origin, (d) => ({ deviceId: devices[d]!.options.deviceId, profile: devices[d]!.profileName as ProfileName | 'direct' }));
    const extraAlarms = markExtraAlarms(samples, cic.receivedAt, new Set(devices.map((d) => d.options.deviceId)), originWall);
    const windowPresses = samples.map((s, i) => ({ sentAt: presses[i]!.sentAt, outcome: s.outcome, ...(presses[i]!.answeredAt !== undefined ? { answeredAt: presses[i]!.answeredAt } : {}), ...(s.receivedMs !== undefined ? { receivedMs: s.receivedMs } : {}) }));

    const allReconnects: number[] = [];
    const killRecords: KillRecord[] = kills.map(({ at, on, ...k }) => {
      const { times } = reconnectTimes(at, on, (i) => connectTimes[i]!.find((t) => t > at));
      allReconnects.push(...times);
      // Attempts until connected again: the transports that closed from the kill on (the lost
      // connection is the first of them), so attempts = closes after the kill, up to the reconnection.
      const attempts = on.flatMap((i) => {
        const back = connectTimes[i]!.find((t) => t > at);
        return back === undefined ? [] : [closeTimes[i]!.filter((t) => t >= at && t <= back).length];
      });
      const counted = summarize(attempts);
      // The broker's share: the successful attempt alone, from opening its transport to the SUBACK.
      const lastAttempt = summarize(on.flatMap((i) => {
        const k = connectTimes[i]!.findIndex((t) => t > at);
        return k < 0 ? [] : [attemptTimes[i]![k]!];
      }));
      return {
        ...k,
        reconnected: times.length,
        reconnectMs: summarize(times),
        ...(attempts.length ? { attempts: { p50: counted.p50!, p99: counted.p99!, max: counted.max! } } : {}),
        ...(lastAttempt.count ? { lastAttemptMs: { p50: lastAttempt.p50!, p99: lastAttempt.p99! } } : {}),
      };
    });
    const killSpans = kills.map((k) => [k.at, k.at + options.windowMs] as const);
    let redisSection: RedisPhase | undefined;
    const redisSpans: Array<readonly [number, number]> = [];
    if (redisPhase) {
      const { at, backAt, ...rest } = redisPhase;
      const span = [at, backAt + options.windowMs] as const;
      redisSpans.push(span);
      redisSection = { ...rest, window: pressWindow(windowPresses, [span]), disconnects: offlineTimes.filter((t) => t >= span[0] && t < span[1]).length };
    }
    const after = counters();
    const acceptedIds = [...cic.acceptedAt.keys()];
    const failover: FailoverSection = {
      nodes,
      started: cluster !== undefined,
      devices: devices.length,
      rate: options.rate,
      sent: presses.length,
      received: samples.filter((s) => s.outcome === 'received').length,
      lost: samples.filter((s) => s.outcome === 'lost').length,
      rejected: samples.filter((s) => s.outcome === 'rejected').length,
      duplicated: samples.filter((s) => s.duplicated).length,
      extraAlarms,
      repeatedAnnouncements: cic.stats.repeatedReceived,
      replayedEvents: cic.stats.replayed,
      retransmissions: samples.reduce((a, s) => a + s.retransmissions, 0),
      seenAtCic: samples.filter((s) => s.outcome === 'received' && s.cicMs !== undefined).length,
      delivered: { confirmed: cic.stats.delivered, refused: cic.stats.deliveryErrors.length, ...(cic.stats.deliveryErrors[0] ? { firstError: cic.stats.deliveryErrors[0] } : {}) },
      accepted: {
        sent: acceptedIds.length,
        seenByDevices: acceptedIds.filter((id) => acceptedSeen.has(id)).length,
        closedWithoutAccepted: acceptedIds.filter((id) => !acceptedSeen.has(id) && closedSeen.has(id)).length,
        // For tracing: each accept no device heard, with its device, when it was accepted, and whether the device was connected at the end.
        unseen: acceptedIds
          .filter((id) => !acceptedSeen.has(id))
          .map((alarmId) => {
            const deviceId = samples.find((s) => s.alarmId === alarmId)?.deviceId;
            const device = devices.find((d) => d.options.deviceId === deviceId);
            return {
              alarmId,
              ...(device ? { deviceId: device.options.deviceId, connectedAtEnd: device.connectedEndpoint !== undefined } : {}),
              acceptedAtMs: Math.round(cic!.acceptedAt.get(alarmId)! - origin),
            };
          }),
      },
      closed: cic.stats.closed,
      kills: killRecords,
      reconnectMs: summarize(allReconnects),
      afterKill: pressWindow(windowPresses, killSpans),
      steady: pressesOutside(windowPresses, [...killSpans, ...redisSpans]),
      windowMs: options.windowMs,
      ...(redisSection ? { redis: redisSection } : {}),
      unexpectedExits,
      connections: { lost: after.lost - before.lost, reconnected: after.reconnected - before.reconnected },
      checks: [],
    };

    const objectives: Objective[] = [
      { name: 'lost presses', target: '0', actual: String(failover.lost), ok: failover.lost === 0 },
      { name: 'duplicated presses', target: '0', actual: String(failover.duplicated), ok: failover.duplicated === 0 },
    ];
    // reported beside the objectives, not part of the exit code
    failover.checks = [
      { name: 'received presses seen at the CIC', ok: failover.seenAtCic === failover.received, actual: `${failover.seenAtCic}/${failover.received}` },
      { name: 'accepted alarms whose device got "accepted"', ok: failover.accepted.seenByDevices === failover.accepted.sent, actual: `${failover.accepted.seenByDevices}/${failover.accepted.sent}` },
      { name: 'delivery confirmations refused', ok: failover.delivered.refused === 0, actual: String(failover.delivered.refused) },
      { name: 'nodes that exited on their own', ok: unexpectedExits.length === 0, actual: String(unexpectedExits.length) },
    ];
    notes.push(
      `Devices hold every node as a broker endpoint, device i listing node (i mod ${nodes.length}) + 1 first; a failed or lost connection moves a device on to the next endpoint after its back-off (1 s ±25 %, doubling once the whole list failed).`,
      'Reconnect time: from the SIGKILL until each device that was connected to the killed node is connected again (CONNACK and SUBACK), to any node.',
      `The simulated CIC is a CIC integration (its own token): it confirms delivery of each alarm (POST …/delivered), accepts it ${(options.operator?.acceptMs ?? 0) / 1000} s after seeing it and closes it ${(options.operator?.closeMs ?? 0) / 1000} s later; its event stream moves to the next node when its node goes and resumes with Last-Event-ID. A device whose alarm is open does not press again (up to ${OPEN_ALARM_HOLD_MS / 1000} s).`,
      'Exit code: 1 when a press was lost or duplicated; the other checks are reported.',
    );
    const report: FailoverResult = {
      title: `AMR 2.0 device simulator — failover, ${nodes.length} nodes, ${devices.length} devices`,
      scenario: 'failover',
      startedAt: startedAt.toISOString(),
      settings: { ...options, api: options.api ? { urls: options.api.urls, mqttUrls: options.api.mqttUrls } : undefined, databaseUrl: options.databaseUrl ? 'PostgreSQL (given)' : undefined, setupMs: Math.round(origin - t0) },
      profiles: Object.fromEntries(options.profiles.map((p) => [p, PROFILES[p]])),
      summary: summarizeByProfile(samples),
      samples: reportSamples(samples, 2000),
      objectives,
      ok: objectives.every((o) => o.ok),
      failover,
      notes,
    };
    for (const line of failoverLines(failover)) reporter.line(line);
    for (const o of objectives) reporter.line(`  ${o.ok ? 'ok  ' : 'MISS'} ${o.name}: ${o.actual} (target ${o.target})`);
    for (const c of failover.checks) reporter.line(`  ${c.ok ? 'ok  ' : 'SEEN'} ${c.name}: ${c.actual} (reported, not in the exit code)`);
    if (options.report) {
      const files = await writeReport(options.report, report);
      reporter.line(`report    ${files.html}  (${files.json})`);
    }
    return report;
  } finally {
    await cic?.stop(0);
    await mapBounded(devices, 256, (d) => d.stop());
    await Promise.all([...restarting]);
    await cluster?.close();
    await redis?.stop();
  }
}

/** The failover tables as terminal lines. */
export function failoverLines(f: FailoverSection): string[] {
  return failoverTables(f).flatMap((t) => ['', t.title, ...textTable(t.head, t.rows).map((l) => `  ${l}`)]);
}

function track(set: Set<Promise<void>>, p: Promise<void>): void {
  set.add(p);
  void p.finally(() => set.delete(p));
}
