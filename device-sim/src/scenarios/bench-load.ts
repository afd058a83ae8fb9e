/**
 * The load phases of the bench: presses at the asked rate over the connected devices (a paced
 * generator, a press tracker, one sweep timer for retransmissions and timeouts), optionally a
 * flooding device in a second phase, a reconnect storm a third into the load, or the platform
 * killed (SIGKILL) and started again S into the load; then what each phase measured: rates,
 * press → `received` and press → CIC percentiles, lost and duplicated presses.
 */
import { availableParallelism } from 'node:os';
import { performance } from 'node:perf_hooks';
import type { BenchPhase, FloodSection, KillSection, ListenFigures, ReconnectAttempts, StormSection } from '../bench-report.js';
import type { SimulatedCic } from '../cic.js';
import type { SimDevice } from '../device.js';
import { startFlood, type FloodHandle, type FloodOptions } from '../flood.js';
import type { FleetOptions } from '../fleet-args.js';
import { markExtraAlarms, samplesOf, type PressSample } from '../measure.js';
import type { Random } from '../network.js';
import { ms, type Reporter } from '../output.js';
import { runPaced, type PacingResult } from '../pacing.js';
import { metricValue, scrapeMetrics, type PlatformHandle } from '../platform-host.js';
import { DeviceRotation, PressTracker, shuffled, type TrackedPress } from '../press-tracker.js';
import { listenCounters, machineCpu, procCpuSeconds, type ListenCounters } from '../procfs.js';
import type { Progress } from '../progress.js';
import { summarize } from '../stats.js';
import { sleep, waitFor } from './fleet.js';

export interface LoadSetup {
  options: FleetOptions;
  /** The measuring devices, connected. */
  devices: SimDevice[];
  cic: SimulatedCic;
  platform: PlatformHandle;
  reporter: Reporter;
  progress: Progress;
  signal: AbortSignal;
  random: Random;
  /** Every device's first seq of this run (above any seq it used before). */
  seqBase: number;
  /** The flooding device (--flood): everything but the seq base. */
  flood?: Omit<FloodOptions, 'seqBase'>;
}

export interface LoadResult {
  phases: BenchPhase[];
  /** Every press of the measuring devices, in send order. */
  samples: PressSample[];
  storm?: StormSection;
  flood?: FloodSection;
  /** The platform killed and started again during the load (--restart-at). */
  kill?: KillSection;
  rssPeakBytes: number;
  /** The measuring devices' connections over the load: lost (by either side), set up again, undecodable acks. */
  connections: { lost: number; reconnected: number; invalidMessages: number };
  /** The highest seq this run used (the next run starts above it). */
  maxSeq: number;
  extraAlarms: number;
}

/** How long after the load phase the stragglers of a storm or a kill are still waited for. */
const RECONNECT_GRACE_MS = 60_000;

export async function runLoad(setup: LoadSetup): Promise<LoadResult> {
  const { options, devices, cic, platform, progress, signal } = setup;
  const tracker = new PressTracker(devices.length, { timeoutMs: options.timeoutS * 1000, retransmitMs: options.retransmitMs });
  const counted = () => devices.reduce((c, d) => ({ lost: c.lost + d.counters.offline, reconnected: c.reconnected + d.counters.reconnects, invalidMessages: c.invalidMessages + d.counters.invalid }), { lost: 0, reconnected: 0, invalidMessages: 0 });
  const countsBefore = counted();
  const nextSeq = devices.map(() => setup.seqBase);
  devices.forEach((d, i) => d.button.on('ack', (e) => tracker.ack(i, e.ack, e.at)));
  const rotation = new DeviceRotation(shuffled(devices.map((_, i) => i), setup.random), (i) => tracker.unanswered(i) > 0);
  const sweeper = setInterval(() => tracker.sweep(performance.now(), (p) => devices[p.device]!.sendPress(p.seq, p.ts)), 50);

  let rssPeakBytes = (await platform.rssBytes()) ?? 0;
  const rssTimer = setInterval(() => {
    void platform.rssBytes().then((v) => {
      if (v !== undefined) rssPeakBytes = Math.max(rssPeakBytes, v);
    });
  }, 1000);

  // ---- the reconnect storm: every connection dropped at once, a third into the (first) phase ----
  const storm = options.storm ? new Storm(devices) : undefined;
  // ---- the platform killed (SIGKILL) S into the load and started again on the same database ----
  const kill = options.restartAtS !== undefined ? new Kill(devices, platform, (line) => setup.reporter.error(line)) : undefined;

  const names = options.flood ? ['quiet', 'flood'] : ['load'];
  const pacing = new Map<string, PacingResult>();
  const cpu = new Map<string, BenchPhase['cpu']>();
  const origin = performance.now();
  const originWall = Date.now();
  let flood: FloodHandle | undefined;
  let floodStats: FloodSection | undefined;
  try {
    for (const name of names) {
      if (signal.aborted) break;
      if (name === 'flood' && setup.flood) {
        flood = startFlood({ ...setup.flood, seqBase: setup.seqBase });
        setup.reporter.error(`flood     ${setup.flood.deviceId} floods alarms and SUBSCRIBEs while the others press`);
      }
      const stormTimer = storm && name === names[0] ? setTimeout(() => void storm.drop(), (options.seconds * 1000) / 3) : undefined;
      const killTimer = kill && name === names[0] ? setTimeout(() => kill.fire(origin), options.restartAtS! * 1000) : undefined;
      const cpuBefore = { at: performance.now(), own: process.cpuUsage(), platform: await platformCpuSeconds(platform), machine: await machineCpu() };
      let lastDraw = 0;
      const result = await runPaced({
        rate: options.rate,
        durationMs: options.seconds * 1000,
        signal,
        send: (n) => {
          let sent = 0;
          for (; sent < n; sent++) {
            const i = rotation.next();
            if (i < 0) break;
            const seq = nextSeq[i]!;
            nextSeq[i] = seq + 1;
            const ts = Math.floor(Date.now() / 1000);
            devices[i]!.sendPress(seq, ts);
            tracker.sent(i, seq, ts, performance.now(), name);
          }
          return sent;
        },
        onTick: (elapsed, pacer) => {
          if (elapsed - lastDraw < 250) return;
          lastDraw = elapsed;
          const answered = tracker.presses.length - tracker.pending;
          const f = flood?.stats;
          progress.update(name, elapsed / (options.seconds * 1000), `${(elapsed / 1000).toFixed(0)}/${options.seconds} s  sent ${pacer.sent}/${pacer.total}  answered ${answered}  in flight ${tracker.pending}${storm ? `  ${storm.status()}` : ''}${kill ? `  ${kill.status()}` : ''}${f ? `  flood ${f.publishes} sent, ${f.pubacks} acked, ${f.disconnects} disconnects` : ''}`);
        },
      });
      clearTimeout(stormTimer);
      clearTimeout(killTimer); // fired by now (--restart-at is within the phase) unless interrupted
      pacing.set(name, result);
      const wallS = (performance.now() - cpuBefore.at) / 1000;
      const own = process.cpuUsage(cpuBefore.own);
      const platformUsed = platformCpuOver(cpuBefore.platform, await platformCpuSeconds(platform), kill);
      const machine = await machineCpu();
      cpu.set(name, {
        simulatorPct: ((own.user + own.system) / 1e6 / wallS) * 100,
        ...(platformUsed !== undefined ? { platformPct: (platformUsed / wallS) * 100 } : {}),
        // every process of the machine (PostgreSQL's too), as a share of all its cores
        ...(cpuBefore.machine && machine && machine.total > cpuBefore.machine.total
          ? { machinePct: ((machine.busy - cpuBefore.machine.busy) / (machine.total - cpuBefore.machine.total)) * 100, cores: availableParallelism() }
          : {}),
      });
      if (flood) {
        const stats = await flood.stop();
        floodStats = { ...stats, deviceId: setup.flood!.deviceId };
        flood = undefined;
      }
      progress.done();
    }
    // presses still in flight finish or time out (the sweeper declares them lost)
    // (after a kill: also until the platform is back and every device with it)
    const settled = () => tracker.pending === 0 && (!storm || storm.settled()) && (!kill || kill.settled());
    await waitFor(settled, Math.max(options.timeoutS * 1000 + 1000, storm || kill ? RECONNECT_GRACE_MS : 0), signal);
  } finally {
    await flood?.stop();
    await kill?.done; // a restart still starting up is not left behind (close() stops what it started)
    await storm?.readCounters();
    await kill?.readCounters();
    clearInterval(sweeper);
    clearInterval(rssTimer);
  }
  if (signal.aborted) tracker.abortPending();
  await quiet(() => cic.stats.events, 1000, 15_000, signal); // late events at the CIC

  // ---- what was measured -----------------------------------------------------------------------
  const presses = tracker.presses;
  const samples = samplesOf(presses, cic.arrivals, origin, (d) => ({ deviceId: devices[d]!.options.deviceId, profile: 'direct' as const }));
  const extraAlarms = markExtraAlarms(samples, cic.receivedAt, new Set(devices.map((d) => d.options.deviceId)), originWall);
  const phases = names.filter((n) => pacing.has(n)).map((name) => ({ ...phaseOf(name, options, pacing.get(name)!, presses, samples), cpu: cpu.get(name)! }));
  const maxSeq = nextSeq.reduce((m, s) => Math.max(m, s - 1), Math.max(setup.seqBase - 1, floodStats?.lastSeq ?? 0));
  return {
    phases,
    samples,
    ...(storm ? { storm: storm.section(presses, samples, origin) } : {}),
    ...(floodStats ? { flood: floodStats } : {}),
    ...(kill?.fired ? { kill: kill.section(presses, samples, origin) } : {}),
    rssPeakBytes,
    connections: (({ lost, reconnected, invalidMessages }) => ({ lost: lost - countsBefore.lost, reconnected: reconnected - countsBefore.reconnected, invalidMessages: invalidMessages - countsBefore.invalidMessages }))(counted()),
    maxSeq,
    extraAlarms,
  };
}

/** CPU seconds the platform has used: its process's /proc figures, or its own metric when it runs elsewhere. */
async function platformCpuSeconds(platform: PlatformHandle): Promise<number | undefined> {
  if (platform.pid !== undefined) return procCpuSeconds(platform.pid);
  if (platform.kind !== 'external') return undefined;
  return metricValue(await scrapeMetrics(platform.apiUrl, platform.token).catch(() => ''), 'amr_process_cpu_seconds_total');
}

/**
 * CPU seconds the platform used between two reads. After a kill the second read is the new
 * process's (since its start, so its start-up counts): the killed one's share up to the SIGKILL
 * is added. Undefined when a read is missing.
 */
function platformCpuOver(before: number | undefined, after: number | undefined, kill: Kill | undefined): number | undefined {
  if (before === undefined || after === undefined) return undefined;
  if (!kill?.fired) return after - before;
  return kill.cpuAtKill === undefined ? undefined : kill.cpuAtKill - before + after;
}

function phaseOf(name: string, options: FleetOptions, pacing: PacingResult, presses: readonly TrackedPress[], samples: readonly PressSample[]): Omit<BenchPhase, 'cpu'> {
  const idx = presses.flatMap((p, i) => (p.phase === name ? [i] : []));
  const mine = idx.map((i) => samples[i]!);
  const received = idx.filter((i) => presses[i]!.outcome === 'received');
  const first = idx.reduce((m, i) => Math.min(m, presses[i]!.sentAt), Infinity);
  const last = received.reduce((m, i) => Math.max(m, presses[i]!.answeredAt!), -Infinity);
  return {
    name,
    seconds: options.seconds,
    askedRate: options.rate,
    achievedRate: pacing.achievedRate,
    lagMs: pacing.lagMs,
    heldBack: pacing.heldBack,
    presses: mine.length,
    received: received.length,
    lost: mine.filter((s) => s.outcome === 'lost').length,
    rejected: mine.filter((s) => s.outcome === 'rejected').length,
    rejectReasons: countReasons(mine),
    duplicated: mine.filter((s) => s.duplicated).length,
    aborted: mine.filter((s) => s.outcome === 'aborted').length,
    retransmissions: mine.reduce((sum, s) => sum + s.retransmissions, 0),
    durablePerS: received.length && last > first ? (received.length * 1000) / (last - first) : 0,
    receivedMs: summarize(mine.flatMap((s) => (s.receivedMs === undefined ? [] : [s.receivedMs]))),
    cicMs: summarize(mine.flatMap((s) => (s.cicMs === undefined ? [] : [s.cicMs]))),
  };
}

/** The reasons of the rejected presses, most frequent first. */
export function countReasons(samples: readonly PressSample[]): Array<{ reason: string; presses: number }> {
  const counts = new Map<string, number>();
  for (const s of samples) if (s.outcome === 'rejected') counts.set(s.reason ?? '(none given)', (counts.get(s.reason ?? '(none given)') ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1]).map(([reason, presses]) => ({ reason, presses }));
}

/** Every connected device drops its connection at once and reconnects; when each is back. */
class Storm {
  private readonly drops: Reconnections;
  private firstDrop: number | undefined;
  private readonly listen = new ListenWindow();

  constructor(devices: readonly SimDevice[]) {
    this.drops = new Reconnections(devices);
  }

  async drop(): Promise<void> {
    await this.listen.start();
    this.firstDrop = performance.now();
    this.drops.drop((d) => d.drop());
  }

  /** Reads the machine's accept-queue counters once the devices were waited for. */
  readCounters(): Promise<void> {
    return this.listen.end();
  }

  settled(): boolean {
    return this.firstDrop !== undefined && this.drops.allBack;
  }

  status(): string {
    return this.firstDrop === undefined ? 'storm to come' : `storm: ${this.drops.back}/${this.drops.count} back`;
  }

  section(presses: readonly TrackedPress[], samples: readonly PressSample[], origin: number): StormSection {
    const { per, lastBack } = this.drops.times(-Infinity);
    const all = this.firstDrop !== undefined && this.drops.allBack && this.drops.count > 0;
    const during = this.firstDrop === undefined ? [] : pressesBetween(presses, samples, this.firstDrop, all ? lastBack : Infinity);
    return {
      devices: this.drops.count,
      atS: this.firstDrop === undefined ? 0 : (this.firstDrop - origin) / 1000,
      reconnected: this.drops.back,
      perDeviceMs: summarize(per),
      ...this.drops.attemptFigures(),
      allConnectedMs: all ? lastBack - this.firstDrop! : null,
      during: {
        presses: during.length,
        received: during.filter((s) => s.outcome === 'received').length,
        lost: during.filter((s) => s.outcome === 'lost').length,
        receivedMs: summarize(during.flatMap((s) => (s.receivedMs === undefined ? [] : [s.receivedMs]))),
      },
      ...this.listen.figures(),
    };
  }
}

/**
 * The platform killed with SIGKILL during the load and started again on the same database and
 * ports (platform.restart()). Nothing is done to the devices: each notices its lost connection
 * and reconnects with its usual back-off (1 s, 2 s, 4 s … with jitter) while the platform is
 * down; the presses it holds wait in its client and the sweep keeps retransmitting them (same seq
 * and device time), as a button does. When each device is back, and what the presses sent
 * meanwhile measured.
 */
class Kill {
  /** The kill and the restart once fired; never rejects. */
  done: Promise<void> = Promise.resolve();
  /** The killed process's CPU seconds, read just before the SIGKILL (its phase adds them to the new process's). */
  cpuAtKill: number | undefined;
  private readonly drops: Reconnections;
  private killedAt: number | undefined;
  private upAt: number | undefined;
  /** The machine's full-accept-queue counters at the kill and once the devices were waited for. */
  private readonly listen = new ListenWindow();
  private error: string | undefined;
  private atS = 0;

  constructor(
    devices: readonly SimDevice[],
    private readonly platform: PlatformHandle,
    private readonly log: (line: string) => void,
  ) {
    this.drops = new Reconnections(devices);
  }

  get fired(): boolean {
    return this.killedAt !== undefined;
  }

  fire(origin: number): void {
    this.done = this.killAndRestart(origin);
  }

  /** Reads the machine's accept-queue counters once the devices were waited for. */
  readCounters(): Promise<void> {
    return this.listen.end();
  }

  /** The platform is back (or could not be started again) and so is every device it had. */
  settled(): boolean {
    return this.fired && (this.error !== undefined || (this.upAt !== undefined && this.drops.allBack));
  }

  status(): string {
    if (!this.fired) return 'kill to come';
    if (this.error !== undefined) return 'platform not back';
    return `${this.upAt === undefined ? 'platform down' : 'platform back'}, ${this.drops.back}/${this.drops.count} devices back`;
  }

  section(presses: readonly TrackedPress[], samples: readonly PressSample[], origin: number): KillSection {
    const killedAt = this.killedAt ?? origin;
    const { per, lastBack } = this.drops.times(killedAt);
    const all = this.upAt !== undefined && this.drops.allBack;
    const during = pressesBetween(presses, samples, killedAt, all ? lastBack : Infinity);
    return {
      atS: this.atS,
      downMs: this.upAt === undefined ? null : Math.round(this.upAt - killedAt),
      ...(this.error !== undefined ? { error: this.error } : {}),
      devices: this.drops.count,
      reconnected: this.drops.back,
      perDeviceMs: summarize(per),
      ...this.drops.attemptFigures(),
      allConnectedMs: all ? Math.round(lastBack - killedAt) : null,
      during: {
        presses: during.length,
        received: during.filter((s) => s.outcome === 'received').length,
        rejected: during.filter((s) => s.outcome === 'rejected').length,
        lost: during.filter((s) => s.outcome === 'lost').length,
        receivedMs: summarize(during.flatMap((s) => (s.receivedMs === undefined ? [] : [s.receivedMs]))),
      },
      run: { presses: samples.length, lost: samples.filter((s) => s.outcome === 'lost').length, duplicated: samples.filter((s) => s.duplicated).length },
      ...this.listen.figures(),
    };
  }

  private async killAndRestart(origin: number): Promise<void> {
    this.cpuAtKill = await platformCpuSeconds(this.platform);
    await this.listen.start();
    this.killedAt = performance.now();
    this.atS = (this.killedAt - origin) / 1000;
    this.drops.drop(); // the devices connected now are the ones the kill drops
    const pid = this.platform.pid;
    try {
      await this.platform.kill();
      this.log(`\nkill      platform (pid ${pid}) killed (SIGKILL) at ${this.atS.toFixed(1)} s with ${this.drops.count} devices connected; starting it again on the same database`);
      await this.platform.restart();
      this.upAt = performance.now();
      this.log(`kill      platform back after ${ms(this.upAt - this.killedAt)} (pid ${this.platform.pid}); devices reconnecting`);
    } catch (error) {
      this.error = (error as Error).message;
      this.log(`kill      the platform could not be started again: ${this.error}`);
    }
  }
}

/** Which devices a drop took (a storm, a kill) and when each was connected again. */
class Reconnections {
  private readonly droppedAt: Array<number | undefined> = [];
  private readonly backAt: Array<number | undefined> = [];
  /** Attempts to connect again until back (the device's back-off runs between failed ones). */
  private readonly attempts: number[] = [];
  /** The successful attempt alone: its transport opened → SUBACK, ms (the broker's share). */
  private readonly lastAttemptMs: Array<number | undefined> = [];
  count = 0;
  back = 0;

  constructor(private readonly devices: readonly SimDevice[]) {
    devices.forEach((d, i) => {
      d.button.on('reconnecting', () => {
        if (this.droppedAt[i] !== undefined && this.backAt[i] === undefined) this.attempts[i] = (this.attempts[i] ?? 0) + 1;
      });
      d.button.on('connect', ({ reconnect, attemptMs }) => {
        if (reconnect && this.droppedAt[i] !== undefined && this.backAt[i] === undefined) {
          this.backAt[i] = performance.now();
          this.lastAttemptMs[i] = attemptMs;
          this.back += 1;
        }
      });
    });
  }

  /** Per device back: the attempts it took, and how long the successful one took. */
  attemptFigures(): ReconnectAttempts {
    const back = this.backAt.flatMap((at, i) => (at === undefined ? [] : [i]));
    return {
      attempts: summarize(back.map((i) => Math.max(1, this.attempts[i] ?? 0))),
      lastAttemptMs: summarize(back.flatMap((i) => (this.lastAttemptMs[i] === undefined ? [] : [this.lastAttemptMs[i]!]))),
    };
  }

  /** The devices connected now are the ones dropped; `each` drops one (nothing: the platform drops them). */
  drop(each: (device: SimDevice) => void = () => undefined): void {
    this.devices.forEach((d, i) => {
      if (!d.button.connected) return;
      this.droppedAt[i] = performance.now();
      this.count += 1;
      each(d);
    });
  }

  get allBack(): boolean {
    return this.back >= this.count;
  }

  /** Each device's time back, from `from` (or from its own drop), and the last device's return (`from` if none). */
  times(from: number): { per: number[]; lastBack: number } {
    const per: number[] = [];
    let lastBack = from;
    this.droppedAt.forEach((at, i) => {
      const back = this.backAt[i];
      if (at === undefined || back === undefined) return;
      per.push(back - (from === -Infinity ? at : from));
      lastBack = Math.max(lastBack, back);
    });
    return { per, lastBack };
  }
}

/** The samples of the presses sent between `from` and `until` (performance.now()). */
function pressesBetween(presses: readonly TrackedPress[], samples: readonly PressSample[], from: number, until: number): PressSample[] {
  return samples.filter((_, i) => presses[i]!.sentAt >= from && presses[i]!.sentAt <= until);
}

/** Waits until `count()` has not moved for `stillMs` (at most `maxMs`). */
async function quiet(count: () => number, stillMs: number, maxMs: number, signal: AbortSignal): Promise<void> {
  const deadline = performance.now() + maxMs;
  let last = count();
  let since = performance.now();
  while (!signal.aborted && performance.now() < deadline && performance.now() - since < stillMs) {
    await sleep(100, signal);
    if (count() !== last) {
      last = count();
      since = performance.now();
    }
  }
}

/** This machine's accept-queue counters over a window (a storm, a kill): connections dropped before the platform saw them. */
class ListenWindow {
  private atStart: ListenCounters | undefined;
  private atEnd: ListenCounters | undefined;

  async start(): Promise<void> {
    this.atStart = await listenCounters();
  }

  async end(): Promise<void> {
    this.atEnd = await listenCounters();
  }

  figures(): { listen?: ListenFigures } {
    if (!this.atStart || !this.atEnd) return {};
    return {
      listen: {
        overflows: this.atEnd.listenOverflows - this.atStart.listenOverflows,
        synRetransmits: this.atEnd.synRetransmits - this.atStart.synRetransmits,
      },
    };
  }
}
