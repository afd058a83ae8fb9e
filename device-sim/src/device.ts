/**
 * A simulated button in a fleet: the Button (MQTT, presses, acks, seq kept on disk) behind its
 * own network (the shaping link of its profile, or a direct socket for the bench), with the
 * firmware's periodic behaviour: a heartbeat (`status`) while no alarm is open, positions
 * (`loc`) while one is, reconnection with exponential back-off after a loss of coverage, and
 * the vibration of every ack. With the SMS path its modem sends and receives texts over the same
 * radio (NAS: no TCP or TLS) through the simulated SMS centre.
 */
import { appendFileSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { smsKey, type AlarmMessage, type Encoding, type Vibration } from '@amr/protocol';
import { Button, type PressResult } from './button.js';
import { NetworkLink, type LinkTarget } from './link.js';
import { gapSchedule, type NetworkProfile, type Random } from './network.js';
import { rsrpAt } from './coverage.js';
import type { SmsCentre } from './sms-centre.js';
import { SMS_DEFAULTS, type SmsParams } from './sms-model.js';

export interface SimDeviceOptions {
  deviceId: string;
  secret: string;
  /** null: direct loopback socket, no network model (bench). */
  profile: NetworkProfile | null;
  /** The broker (through the link, or directly for the bench); with `tls`, its TLS listener. */
  target: LinkTarget;
  /**
   * The button's ordered list of brokers (CONTRACT §1), when it has more than `target`: a
   * connection that fails or is lost moves it on to the next (endpoints.ts), through the link too.
   */
  targets?: LinkTarget[];
  /**
   * Connect with TLS (mqtts://): the link relays the TLS bytes unchanged, so the handshake pays
   * the profile's round trips like any other exchange. `ca`: the certificate to trust.
   */
  tls?: { ca?: Buffer; servername: string };
  /** With `tls`: the button's client certificate and key (PEM); it then sends no password. */
  certificate?: { key: string; cert: string };
  encoding: Encoding;
  stateDir: string;
  random: Random;
  heartbeatMs: number;
  locEveryMs: number;
  /** Source address for a direct socket (bench: several loopback addresses). */
  localAddress?: string;
  connectTimeoutMs: number;
  keepaliveS?: number;
  /** Keep every ack in the button's log (default true; see ButtonConfig.keepAckLog). */
  keepAckLog?: boolean;
  /** The SMS path: the button's registered number and the SMS centre that carries its texts. */
  sms?: { msisdn: string; centre: SmsCentre; params?: SmsParams };
}

export interface DeviceCounters {
  heartbeats: number;
  positions: number;
  reconnects: number;
  offline: number;
  /** Messages on the ack and cmd topics that did not decode (CONTRACT §3). */
  invalid: number;
  vibrations: Partial<Record<Vibration, number>>;
  /** Texts the modem sent and received (SMS path). */
  smsSent: number;
  smsReceived: number;
}

export class SimDevice {
  readonly button: Button;
  readonly link: NetworkLink | undefined;
  readonly counters: DeviceCounters = { heartbeats: 0, positions: 0, reconnects: 0, offline: 0, invalid: 0, vibrations: {}, smsSent: 0, smsReceived: 0 };
  /** Time from start() to the first CONNACK (attach included), ms. */
  connectMs: number | undefined;
  /** Index in `targets` of the broker the device is connected to; undefined while it is not. */
  connectedEndpoint: number | undefined;
  readonly targets: LinkTarget[];
  private linkPort = 0;
  private hbSeq = 0;
  private locSeq = 0;
  private openAlarm: string | undefined;
  /** The message of the last press sent by sendPress: what its retransmissions repeat. */
  private lastPress: (AlarmMessage & { seq: number; ts: number }) | undefined;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private locTimer: NodeJS.Timeout | undefined;
  private lastPressAt = -Infinity;
  /** Presses still waiting for `received` (or `rejected`): no heartbeat goes out meanwhile. */
  private unanswered = 0;
  private stopped = false;
  /** The next reconnection goes out at once instead of after the back-off (drop()). */
  private reconnectAtOnce = false;
  private readonly smsTimers = new Set<NodeJS.Timeout>();

  constructor(readonly options: SimDeviceOptions) {
    const { profile } = options;
    this.targets = options.targets?.length ? [...options.targets] : [options.target];
    this.link = profile ? new NetworkLink(profile, this.targets[0]!, options.random) : undefined;
    const url = (t: LinkTarget) => `${options.tls ? 'mqtts' : 'mqtt'}://${t.host.includes(':') ? `[${t.host}]` : t.host}:${t.port}`;
    this.button = new Button({
      deviceId: options.deviceId,
      secret: options.secret,
      mqttUrl: url(this.targets[0]!),
      endpoints: this.targets.map(url),
      ...(options.tls
        ? { mqtt: { ...(options.tls.ca ? { ca: options.tls.ca } : {}), servername: options.tls.servername, rejectUnauthorized: true } }
        : {}),
      ...(options.certificate ? { certificate: options.certificate } : {}),
      encoding: options.encoding,
      stateDir: options.stateDir,
      connectTimeoutMs: options.connectTimeoutMs,
      reconnectPeriodMs: 1000,
      keepaliveS: options.keepaliveS ?? 120,
      ...(options.keepAckLog === false ? { keepAckLog: false } : {}),
      ...(options.sms ? { sms: { key: smsKey(options.secret), send: (text: string) => this.sendSms(text) } } : {}),
      stream: (endpoint) => {
        const target = this.targets[endpoint]!;
        if (!this.link) {
          return netConnect({ host: target.host, port: target.port, noDelay: true, ...(this.options.localAddress ? { localAddress: this.options.localAddress } : {}) });
        }
        // the relay opens its upstream connection to the endpoint chosen for this attempt
        this.link.retarget(target);
        return netConnect({ host: '127.0.0.1', port: this.linkPort, noDelay: true });
      },
    });
    if (process.env.AMR_SIM_TRACE && this.link) this.traceTo(process.env.AMR_SIM_TRACE, this.link);
    if (options.sms) options.sms.centre.register(options.sms.msisdn, (text) => this.receiveSms(text));
    this.button.on('vibrate', ({ pattern, stage, alarm }) => {
      this.counters.vibrations[pattern] = (this.counters.vibrations[pattern] ?? 0) + 1;
      if (stage === 'received' && alarm !== undefined) this.alarmOpened(alarm);
      if (stage === 'closed') this.alarmClosed();
    });
    this.button.on('ack', ({ ack, known }) => {
      // an ack of a press this button did not track itself (the bench's) still opens the alarm
      if (!known && ack.stage === 'received' && ack.alarm !== undefined) this.alarmOpened(ack.alarm);
      if (ack.stage === 'closed' && ack.alarm === this.openAlarm) this.alarmClosed();
    });
    // firmware back-off: 1 s, 2 s, 4 s … 30 s between attempts (doubling once the whole endpoint
    // list has failed, endpoints.ts), with ±25 % jitter so a fleet does not reconnect in step.
    // mqtt.js waits `reconnectPeriod` before each attempt; it is set as each transport closes,
    // before mqtt.js schedules the attempt.
    this.button.on('transport-closed', ({ waitMs }) => {
      this.connectedEndpoint = undefined;
      const client = this.button.mqttClient;
      if (!client) return;
      if (this.reconnectAtOnce) {
        this.reconnectAtOnce = false;
        client.options.reconnectPeriod = 1;
        return;
      }
      client.options.reconnectPeriod = Math.max(1, Math.round(waitMs * (0.75 + 0.5 * options.random())));
    });
    this.button.on('offline', () => {
      this.counters.offline += 1;
      this.connectedEndpoint = undefined;
    });
    this.button.on('connect', ({ reconnect }) => {
      if (reconnect) this.counters.reconnects += 1;
      this.connectedEndpoint = this.button.endpoint;
    });
    this.button.on('connection-error', () => undefined);
    this.button.on('invalid-message', () => {
      this.counters.invalid += 1;
    });
  }

  /**
   * AMR_SIM_TRACE=DIR: DIR/<device id>.jsonl, one JSON object a line, `t` = performance.now() in ms
   * (one clock for the whole run): the link's chunks and gaps (NetworkLink.trace), the gap schedule,
   * and the button's presses, sends, acks and connections. For small runs: every chunk is a write.
   */
  private traceTo(dir: string, link: NetworkLink): void {
    const file = join(dir, `${this.options.deviceId}.jsonl`);
    const write = (event: Record<string, unknown>) => appendFileSync(file, `${JSON.stringify({ t: performance.now(), ...event })}\n`);
    link.trace = write;
    this.button.on('sent', (e) => write({ ev: 'sent', ...e }));
    this.button.on('ack', (e) => write({ ev: 'ack', stage: e.ack.stage, seq: e.ack.seq, repeat: e.repeat, path: e.path }));
    this.button.on('offline', () => write({ ev: 'offline' }));
    this.button.on('connect', (e) => write({ ev: 'connect', ...e }));
  }

  get profileName(): string {
    return this.options.profile?.name ?? 'direct';
  }

  /** Powers on: attaches (through the link), connects, then heartbeats. */
  async start(): Promise<void> {
    if (this.link) {
      this.linkPort = await this.link.listen();
    }
    const started = performance.now();
    await this.button.connect();
    this.connectMs = performance.now() - started;
    this.connectedEndpoint = this.button.endpoint;
    this.scheduleHeartbeat(this.options.random() * this.options.heartbeatMs);
  }

  /** Coverage gaps of the profile over the run (from `origin`), and any forced blackout. */
  scheduleGaps(durationMs: number, origin: number): void {
    if (this.link && this.options.profile) {
      const gaps = gapSchedule(this.options.profile, durationMs, this.options.random);
      this.link.trace?.({ ev: 'gaps', origin, gaps });
      this.link.scheduleGaps(gaps, origin);
    }
  }

  /** A press: woken from sleep, publish, retransmit until "received". */
  press(params: { timeoutMs: number; retransmitMs: number; signal?: AbortSignal; smsAfterMs?: number }): Promise<PressResult> {
    const pressedAt = performance.now();
    this.link?.trace?.({ ev: 'press' });
    // asleep unless a press of its own woke it within the RRC inactivity time (see NetworkLink.sleep)
    if (this.link && pressedAt - this.lastPressAt > this.link.profile.rrcInactivityMs) this.link.sleep();
    this.lastPressAt = pressedAt;
    this.unanswered += 1;
    const answered = () => {
      this.unanswered -= 1;
    };
    return this.button
      .press({
        kind: 'panic',
        loc: { lat: 51.2194 + this.options.random() * 0.05, lon: 4.4025 + this.options.random() * 0.05, acc: 25, ts: Math.floor(Date.now() / 1000), src: 'gnss' },
        bat: 87,
        pressedAt,
        timeoutMs: params.timeoutMs,
        retransmitMs: params.retransmitMs,
        ...(params.signal ? { signal: params.signal } : {}),
        ...(this.options.sms && params.smsAfterMs !== undefined ? { smsAfterMs: params.smsAfterMs, smsRetryMs: this.smsParams.retryMs } : {}),
      })
      .finally(answered);
  }

  private get smsParams(): SmsParams {
    return this.options.sms?.params ?? SMS_DEFAULTS;
  }

  /** A text leaves through the modem: over the radio (NAS), then the SMS centre. */
  private sendSms(text: string): void {
    const sms = this.options.sms;
    if (!sms || this.stopped) return;
    this.counters.smsSent += 1;
    const radioMs = this.link ? this.link.nasDelay('up', this.smsParams.upBytes, this.smsParams.tc1Ms[this.link.profile.level]) : 0;
    this.later(radioMs, () => sms.centre.submit(sms.msisdn, text));
  }

  /** A text from the SMS centre reaches the button over the radio (paged when idle). */
  private receiveSms(text: string): void {
    if (this.stopped) return;
    const radioMs = this.link ? this.link.nasDelay('down', this.smsParams.downBytes, this.smsParams.tc1Ms[this.link.profile.level]) : 0;
    this.later(radioMs, () => {
      this.counters.smsReceived += 1;
      this.button.receiveSms(text);
    });
  }

  private later(ms: number, fn: () => void): void {
    const timer = setTimeout(() => {
      this.smsTimers.delete(timer);
      if (!this.stopped) fn();
    }, Math.max(0, ms));
    this.smsTimers.add(timer);
  }

  /**
   * A press published as is, QoS 1, for a caller that tracks its acks itself (the bench, from the
   * button's `ack` events): no seq store, no timer. A retransmission (the same `seq`) repeats the
   * press's message exactly, as a button resends the message it keeps until answered.
   */
  sendPress(seq: number, ts: number): void {
    if (this.lastPress?.seq !== seq || this.lastPress.ts !== ts) {
      this.lastPress = {
        seq,
        ts,
        kind: 'panic',
        loc: { lat: 51.2194 + this.options.random() * 0.05, lon: 4.4025 + this.options.random() * 0.05, acc: 25, ts, src: 'gnss' },
        bat: 87,
      };
    }
    this.button.publishUp('alarm', this.lastPress);
  }

  /**
   * The connection drops (the socket is destroyed, as a lost network does) and the button
   * reconnects at once rather than after its back-off: every device of a reconnect storm.
   */
  drop(): void {
    const client = this.button.mqttClient;
    const stream = client?.stream as { destroy?: () => void } | undefined;
    if (!client || !stream?.destroy || !this.button.connected) return;
    this.reconnectAtOnce = true; // should that attempt fail, the next ones back off as after any loss
    stream.destroy();
  }

  /** The broker of endpoint `endpoint` moved (a platform restarted on another address). */
  retarget(target: LinkTarget, endpoint = 0): void {
    this.targets[endpoint] = target;
    if (endpoint === 0) this.options.target = target;
    if (this.button.endpoint === endpoint) this.link?.retarget(target);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.heartbeatTimer);
    clearInterval(this.locTimer);
    for (const timer of this.smsTimers) clearTimeout(timer);
    await this.button.close().catch(() => undefined);
    await this.link?.close();
  }

  private scheduleHeartbeat(delayMs: number): void {
    if (this.stopped) return;
    this.heartbeatTimer = setTimeout(() => {
      // A heartbeat an hour (compressed here to seconds) almost never falls into the seconds a press
      // waits for `received`; one that did would wake the radio and carry the press's answer along
      // with it, a help real firmware does not get.
      if (this.openAlarm === undefined && this.unanswered === 0 && this.button.connected) {
        this.hbSeq += 1;
        const rsrp = this.options.profile ? rsrpAt(this.options.profile.couplingLossDb) : -90;
        this.button.publishUp('status', { seq: this.hbSeq, ts: Math.floor(Date.now() / 1000), bat: 87, rsrp, fw: 'sim-2.0' });
        this.counters.heartbeats += 1;
      }
      this.scheduleHeartbeat(this.options.heartbeatMs);
    }, delayMs);
  }

  private alarmOpened(alarmId: string): void {
    if (this.openAlarm === alarmId || this.stopped) return;
    this.openAlarm = alarmId;
    clearInterval(this.locTimer);
    this.locTimer = setInterval(() => {
      if (!this.button.connected) return;
      this.locSeq += 1;
      this.button.publishUp('loc', {
        seq: this.locSeq,
        lat: 51.2194 + this.options.random() * 0.01,
        lon: 4.4025 + this.options.random() * 0.01,
        acc: 15,
        ts: Math.floor(Date.now() / 1000),
        src: 'gnss',
      });
      this.counters.positions += 1;
    }, this.options.locEveryMs);
  }

  private alarmClosed(): void {
    this.openAlarm = undefined;
    clearInterval(this.locTimer);
    this.locTimer = undefined;
  }
}
