/**
 * The shaping link: one button's cellular network, applied to real sockets. The button's MQTT
 * client connects to this relay on loopback; the relay opens a real TCP connection to the
 * broker and forwards bytes both ways after the delays of network.ts:
 *
 * - a new connection waits for coverage, then for the network attach (only after power-on or a
 *   long outage; later connections cost one round trip for the TCP handshake);
 * - every chunk waits half a round trip plus jitter plus its airtime at the coverage level's data
 *   rate, plus a retransmission timeout per loss, in order (TCP delivers in order, so a late
 *   segment holds back the ones behind it);
 * - the first chunk after the radio went idle waits for the wake-up (uplink: sync, access, RRC
 *   setup, service request) or for the next paging occasion and then the wake-up (downlink). The
 *   radio is one: a wake-up under way carries every chunk that waits for it, either way, and an
 *   uplink (the device's own service request) cuts short a downlink's wait for paging;
 * - a short coverage gap keeps the registration and the connection (same PDN, same socket), but
 *   loses the RRC connection: traffic during it, and what was still on its way when it began,
 *   waits for coverage, one cell re-acquisition and the wake-up;
 * - a long one (the profile's `longOutageMs`) cuts the connection (the modem reports the loss of
 *   network to the firmware) and holds new connections until coverage is back and the device has
 *   attached again.
 *
 * The platform sees ordinary TCP from 127.0.0.1: nothing in it knows about the simulation.
 */
import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { airtimeMs } from './coverage.js';
import { attachDelay, gapAt, idleDelay, reacquireDelay, segmentDelay, type Gap, type NetworkProfile, type Random } from './network.js';

/** A connection set-up of the radio under way: connected at `readyAt` (performance.now()). */
interface Wake {
  readyAt: number;
  /** Started by the device (an uplink's service request) rather than by paging. */
  byDevice: boolean;
}

/** A chunk on its way: it leaves when the radio can carry it (`wake`, or `from` when it was connected) and takes `transitMs`. */
interface InFlight {
  chunk: Buffer;
  from: number;
  wake: Wake | undefined;
  transitMs: number;
  at: number;
}

/** One direction of one connection: an in-order queue (see NetworkLink.pipe). */
interface Pipe {
  direction: 'up' | 'down';
  queue: InFlight[];
  /** Recompute every queued chunk's delivery from its radio and transit, in order, and reschedule. */
  retime(): void;
}

export interface LinkTarget {
  host: string;
  port: number;
}

export interface LinkStats {
  connections: number;
  attaches: number;
  attachMs: number[];
  cutByGap: number;
  /** Short outages that the connection lived through. */
  shortOutages: number;
  bytesUp: number;
  bytesDown: number;
}

export class NetworkLink {
  readonly stats: LinkStats = { connections: 0, attaches: 0, attachMs: [], cutByGap: 0, shortOutages: 0, bytesUp: 0, bytesDown: 0 };
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private attached = false;
  /** performance.now() of the last byte either way while connected: the radio is idle after rrcInactivityMs. */
  private lastActivity = -Infinity;
  /** The radio's connection set-up under way, if any (shared by both directions and every chunk). */
  private wake: Wake | undefined;
  /** Cell re-acquisition after each gap, ms, keyed by the gap's end (ms from `origin`): one per gap. */
  private readonly reacquired = new Map<number, number>();
  private readonly pipes = new Set<Pipe>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private gaps: Gap[] = [];
  private origin = performance.now();
  private closed = false;
  /**
   * Opt-in trace of the radio (SimDevice sets it with AMR_SIM_TRACE): every chunk as it is queued
   * (`chunk`: direction, bytes, the wait for the radio and the transit, its planned delivery) and
   * as it is written (`out`: it may have moved since), and each coverage gap as it begins.
   */
  trace: ((event: Record<string, unknown>) => void) | undefined;

  constructor(
    readonly profile: NetworkProfile,
    private target: LinkTarget,
    private readonly random: Random,
  ) {}

  /** Listens on 127.0.0.1 (ephemeral port); returns the port the button connects to. */
  async listen(): Promise<number> {
    const server = createServer({ noDelay: true }, (socket) => this.accept(socket));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    return (server.address() as AddressInfo).port;
  }

  /** Where the relay forwards to (the platform may come back on another address after a restart). */
  retarget(target: LinkTarget): void {
    this.target = target;
  }

  /** Coverage gaps, in ms from `origin` (performance.now() at the start of the run). */
  scheduleGaps(gaps: readonly Gap[], origin: number): void {
    this.gaps = [...gaps];
    this.origin = origin;
    for (const gap of gaps) {
      const at = origin + gap.startMs - performance.now();
      // a gap already under way (a run starts at a random moment of the device's life) begins at once
      if (origin + gap.endMs > performance.now()) this.later(Math.max(0, at), () => this.loseCoverage(gap.endMs - gap.startMs, Math.max(origin + gap.startMs, performance.now())));
    }
  }

  /** A coverage gap starting now, for `durationMs`. */
  blackout(durationMs: number): void {
    const start = performance.now() - this.origin;
    this.gaps.push({ startMs: start, endMs: start + durationMs });
    this.loseCoverage(durationMs);
  }

  /** Milliseconds until coverage is back (0: covered now). */
  coverageWait(now = performance.now()): number {
    const end = this.gapEnd(now - this.origin);
    return end === undefined ? 0 : end - (now - this.origin);
  }

  /**
   * The radio has been asleep (PSM) since the last exchange: the next uplink pays the wake-up.
   * Heartbeats in a time-compressed run come every few seconds where a real button sends one
   * an hour; they must not keep the simulated radio awake for the press that follows.
   */
  sleep(): void {
    this.lastActivity = -Infinity;
    if (this.wake && this.wake.readyAt <= performance.now()) this.wake = undefined;
  }

  /**
   * Delay of one NAS message (an SMS over the control plane) of `bytes` starting now: no TCP and no
   * session, but the same radio — coverage (and re-acquisition after a gap), an attach when the
   * device lost its registration, the wake-up from idle (uplink) or paging and the wake-up
   * (downlink), half a round trip, jitter and the airtime; when the radio loses the CP-DATA it is
   * sent again after `tc1Ms` (3GPP TS 24.011 TC1*). The radio counts as busy until it is through.
   */
  nasDelay(direction: 'up' | 'down', bytes: number, tc1Ms: number): number {
    const now = performance.now();
    let delay: number;
    if (this.attached) {
      delay = (this.radioFor(direction, now)?.readyAt ?? now) - now;
    } else {
      delay = this.coveredFrom(now) - now + attachDelay(this.profile, this.random);
      delay += idleDelay(this.profile, direction, Infinity, this.random);
    }
    delay += this.profile.rttMs / 2 + this.random() * this.profile.jitterMs + airtimeMs(bytes, direction === 'up' ? this.profile.uplinkBps : this.profile.downlinkBps);
    if (this.random() < this.profile.loss) delay += tc1Ms;
    this.lastActivity = Math.max(this.lastActivity, now + delay);
    if (direction === 'up') this.stats.bytesUp += bytes;
    else this.stats.bytesDown += bytes;
    return delay;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    for (const socket of this.sockets) socket.destroy();
    const server = this.server;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  // ---- internals -------------------------------------------------------------------------------

  /** An outage of `durationMs` begins: the RRC connection is lost; a long outage also loses the session. */
  private loseCoverage(durationMs: number, startedAt = performance.now()): void {
    this.trace?.({ ev: 'gap', durationMs });
    this.lastActivity = -Infinity;
    this.wake = undefined;
    if (durationMs < this.profile.longOutageMs) {
      this.stats.shortOutages += 1;
      // what was still on the air is lost with the RRC connection: it goes again once the radio is back
      // inside the gap even when the timer fired a fraction of a millisecond early (or the start's
      // sum rounded below the gap's own start)
      const now = Math.max(performance.now(), startedAt + 1);
      const pipes = [...this.pipes].filter((p) => p.queue.length > 0).sort((a, b) => (a.direction === b.direction ? 0 : a.direction === 'up' ? -1 : 1));
      for (const pipe of pipes) {
        for (const entry of pipe.queue) {
          entry.from = now;
          entry.wake = this.radioFor(pipe.direction, now);
        }
      }
      for (const pipe of pipes) pipe.retime();
      return;
    }
    this.attached = false;
    if (this.sockets.size > 0) this.stats.cutByGap += 1;
    for (const socket of this.sockets) socket.destroy();
  }

  /**
   * When the radio can reach the cell again: `now`, or the end of the gap the device is in (or just
   * left) and the cell's re-acquisition after it — one re-acquisition per gap, whatever waits for it.
   */
  private coveredFrom(now: number): number {
    const t = now - this.origin;
    let end = this.gapEnd(t);
    if (end === undefined) {
      // the last gap that ended: its re-acquisition may still be under way
      const { mean, spread } = this.profile.reacquireMs;
      for (const gap of this.gaps) if (gap.endMs <= t && t < gap.endMs + mean + spread && (end === undefined || gap.endMs > end)) end = gap.endMs;
      if (end === undefined) return now;
    }
    let reacquire = this.reacquired.get(end);
    if (reacquire === undefined) {
      reacquire = reacquireDelay(this.profile, this.random);
      this.reacquired.set(end, reacquire);
    }
    return Math.max(now, this.origin + end + reacquire);
  }

  /** The end of the gap (or run of back-to-back gaps) covering `t` (ms from `origin`), if any. */
  private gapEnd(t: number): number | undefined {
    let end: number | undefined;
    let gap = gapAt(this.gaps, t);
    while (gap) {
      end = gap.endMs;
      gap = gapAt(this.gaps, end);
    }
    return end;
  }

  /**
   * The radio for a chunk in `direction` that is ready to go at `now`: undefined when it is
   * connected, else the connection set-up it waits for. An idle radio (RRC inactivity, or the
   * connection lost in a gap) is woken by an uplink (service request) or, for a downlink, paged
   * at the device's next paging occasion and then set up; a set-up under way carries every chunk,
   * and a device's uplink during a wait for paging starts its own service request, which the
   * waiting downlink then rides (the core network forwards buffered data once the bearers are up).
   */
  private radioFor(direction: 'up' | 'down', now: number): Wake | undefined {
    if (this.wake && this.wake.readyAt <= now) {
      this.lastActivity = Math.max(this.lastActivity, this.wake.readyAt); // connected since
      this.wake = undefined;
    }
    const covered = this.coveredFrom(now);
    if (!this.wake) {
      if (covered <= now && now - this.lastActivity < this.profile.rrcInactivityMs) return undefined;
      const delay = idleDelay(this.profile, direction, Infinity, this.random);
      this.wake = { readyAt: Math.max(now, covered) + delay, byDevice: direction === 'up' };
      return this.wake;
    }
    if (direction === 'up' && !this.wake.byDevice) {
      const own = Math.max(now, covered) + idleDelay(this.profile, 'up', Infinity, this.random);
      if (own < this.wake.readyAt) {
        this.wake.readyAt = own;
        this.wake.byDevice = true;
        for (const pipe of this.pipes) pipe.retime();
      }
    }
    return this.wake;
  }

  private later(ms: number, fn: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      fn();
    }, Math.max(0, ms));
    this.timers.add(timer);
  }

  private accept(device: Socket): void {
    this.sockets.add(device);
    this.stats.connections += 1;
    device.setNoDelay(true);
    device.pause();
    const held: Buffer[] = [];
    device.on('data', (chunk: Buffer) => held.push(chunk)); // before upstream exists: queue (paused anyway)
    device.on('error', () => undefined);
    device.on('close', () => this.sockets.delete(device));

    const started = performance.now();
    const establish = (): void => {
      if (device.destroyed || this.closed) return;
      const wait = this.coverageWait();
      if (wait > 0) {
        this.lastActivity = -Infinity;
        return this.later(wait, establish);
      }
      if (!this.attached) {
        const attach = attachDelay(this.profile, this.random);
        this.stats.attaches += 1;
        return this.later(attach, () => {
          if (this.coverageWait() > 0) return establish(); // lost again while attaching
          this.attached = true;
          this.stats.attachMs.push(performance.now() - started);
          establish();
        });
      }
      // TCP handshake over the radio (after re-acquisition following an outage, and the wake-up if the radio was idle)
      const now = performance.now();
      const ready = this.radioFor('up', now)?.readyAt ?? now;
      this.later(ready - now + this.profile.rttMs, () => this.openUpstream(device, held));
    };
    establish();
  }

  private openUpstream(device: Socket, held: Buffer[]): void {
    if (device.destroyed || this.closed) return;
    this.lastActivity = performance.now();
    const upstream = connect({ host: this.target.host, port: this.target.port, noDelay: true });
    this.sockets.add(upstream);
    upstream.on('close', () => {
      this.sockets.delete(upstream);
      device.destroy();
    });
    upstream.on('error', () => undefined);
    device.on('close', () => upstream.destroy());
    upstream.once('connect', () => {
      const up = this.pipe('up', upstream);
      const down = this.pipe('down', device);
      device.removeAllListeners('data');
      for (const chunk of held.splice(0)) up(chunk);
      device.on('data', up);
      upstream.on('data', down);
      device.resume();
    });
  }

  /**
   * An in-order, delayed writer towards `to`. Chunks wait in one queue and a single timer writes
   * them in order as they fall due: one timer per chunk could fire out of order (timers round to
   * whole milliseconds of the loop's clock), and a byte stream delivered out of order is corrupt
   * (a TLS record fails its MAC, an MQTT packet its parse). A chunk's delivery is the moment the
   * radio can carry it plus its transit, and never before the chunk ahead of it; it moves when
   * its radio does (a device's uplink cuts short a wait for paging, a gap loses what was on the air).
   */
  private pipe(direction: 'up' | 'down', to: Socket): (chunk: Buffer) => void {
    let lastDelivery = 0;
    const queue: InFlight[] = [];
    let timer: NodeJS.Timeout | undefined;
    const drain = (): void => {
      timer = undefined;
      const now = performance.now();
      while (queue.length > 0 && queue[0]!.at <= now + 0.5) {
        const { chunk, at } = queue.shift()!;
        lastDelivery = at;
        this.trace?.({ ev: 'out', dir: direction, bytes: chunk.length });
        this.lastActivity = Math.max(this.lastActivity, now);
        if (!to.destroyed) to.write(chunk);
      }
      schedule();
    };
    const schedule = (): void => {
      if (timer || queue.length === 0 || this.closed) return;
      timer = setTimeout(() => {
        this.timers.delete(timer!);
        drain();
      }, Math.max(0, queue[0]!.at - performance.now()));
      this.timers.add(timer);
    };
    const pipe: Pipe = {
      direction,
      queue,
      retime: () => {
        let previous = lastDelivery;
        for (const entry of queue) {
          entry.at = Math.max((entry.wake?.readyAt ?? entry.from) + entry.transitMs, previous);
          previous = entry.at;
        }
        if (timer) {
          clearTimeout(timer);
          this.timers.delete(timer);
          timer = undefined;
        }
        schedule();
      },
    };
    this.pipes.add(pipe);
    to.once('close', () => this.pipes.delete(pipe));
    return (chunk) => {
      const now = performance.now();
      const wake = this.radioFor(direction, now);
      const transitMs = segmentDelay(this.profile, this.random, chunk.length, direction);
      if (!wake) this.lastActivity = now; // on the air now
      const previous = queue.length > 0 ? queue[queue.length - 1]!.at : lastDelivery;
      const at = Math.max((wake?.readyAt ?? now) + transitMs, previous);
      this.trace?.({ ev: 'chunk', dir: direction, bytes: chunk.length, radioMs: (wake?.readyAt ?? now) - now, transitMs, at, head: chunk.subarray(0, 64).toString('hex') });
      if (direction === 'up') this.stats.bytesUp += chunk.length;
      else this.stats.bytesDown += chunk.length;
      queue.push({ chunk, from: now, wake, transitMs, at });
      schedule();
    };
  }
}
