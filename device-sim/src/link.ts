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
 *   setup, service request) or for the next paging occasion and then the wake-up (downlink);
 * - a short coverage gap keeps the registration and the connection (same PDN, same socket):
 *   traffic during it waits for coverage, cell re-acquisition and the wake-up;
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
  /** performance.now() of the last byte either way: the radio is idle after rrcInactivityMs. */
  private lastActivity = -Infinity;
  private readonly timers = new Set<NodeJS.Timeout>();
  private gaps: Gap[] = [];
  private origin = performance.now();
  private closed = false;

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
      if (at >= 0) this.later(at, () => this.loseCoverage(gap.endMs - gap.startMs));
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
    let t = now - this.origin;
    let gap = gapAt(this.gaps, t);
    while (gap) {
      t = gap.endMs;
      gap = gapAt(this.gaps, t);
    }
    return t - (now - this.origin);
  }

  /**
   * The radio has been asleep (PSM) since the last exchange: the next uplink pays the wake-up.
   * Heartbeats in a time-compressed run come every few seconds where a real button sends one
   * an hour; they must not keep the simulated radio awake for the press that follows.
   */
  sleep(): void {
    this.lastActivity = -Infinity;
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
    let delay = this.outageDelay(now);
    if (!this.attached) delay += attachDelay(this.profile, this.random);
    delay += idleDelay(this.profile, direction, now + delay - this.lastActivity, this.random);
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
  private loseCoverage(durationMs: number): void {
    this.lastActivity = -Infinity;
    if (durationMs < this.profile.longOutageMs) {
      this.stats.shortOutages += 1;
      return;
    }
    this.attached = false;
    if (this.sockets.size > 0) this.stats.cutByGap += 1;
    for (const socket of this.sockets) socket.destroy();
  }

  /** Delay added to traffic that starts during an outage: until coverage is back, then re-acquisition. */
  private outageDelay(now: number): number {
    const wait = this.coverageWait(now);
    if (wait <= 0) return 0;
    this.lastActivity = -Infinity;
    return wait + reacquireDelay(this.profile, this.random);
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
    let waited = false;
    const establish = (): void => {
      if (device.destroyed || this.closed) return;
      const wait = this.coverageWait();
      if (wait > 0) {
        waited = true;
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
      // TCP handshake over the radio (plus re-acquisition after an outage, and the wake-up if the radio was idle)
      const reacquire = waited ? reacquireDelay(this.profile, this.random) : 0;
      waited = false;
      const handshake = reacquire + this.profile.rttMs + idleDelay(this.profile, 'up', performance.now() - this.lastActivity, this.random);
      this.later(handshake, () => this.openUpstream(device, held));
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
   * (a TLS record fails its MAC, an MQTT packet its parse).
   */
  private pipe(direction: 'up' | 'down', to: Socket): (chunk: Buffer) => void {
    let lastDelivery = 0;
    const queue: { at: number; chunk: Buffer }[] = [];
    let timer: NodeJS.Timeout | undefined;
    const drain = (): void => {
      timer = undefined;
      const now = performance.now();
      while (queue.length > 0 && queue[0]!.at <= now + 0.5) {
        const { chunk } = queue.shift()!;
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
    return (chunk) => {
      const now = performance.now();
      const outage = this.outageDelay(now);
      const delay =
        outage +
        segmentDelay(this.profile, this.random, chunk.length, direction) +
        idleDelay(this.profile, direction, now - this.lastActivity, this.random);
      this.lastActivity = now;
      const at = Math.max(now + delay, lastDelivery);
      lastDelivery = at;
      if (direction === 'up') this.stats.bytesUp += chunk.length;
      else this.stats.bytesDown += chunk.length;
      queue.push({ at, chunk });
      schedule();
    };
  }
}
