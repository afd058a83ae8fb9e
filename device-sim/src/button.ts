/**
 * The button model: one cellular panic button as its firmware behaves (CONTRACT §1–§3). It
 * connects with its own credentials and a persistent session, subscribes to its ack and cmd
 * topics, presses (a new seq, persisted across restarts), retransmits the same press until
 * `received`, and timestamps every ack against the press it answers (high-resolution clock).
 * With an SMS channel, a press still without `received` after the fallback wait also goes as an
 * SMS (CONTRACT §6), and acks come by SMS too; the first `received` on either path stops both.
 */
import { EventEmitter } from 'node:events';
import { connect as netConnect, isIP } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { performance } from 'node:perf_hooks';
import type { Duplex } from 'node:stream';
import { connect as mqttConnect, MqttClient, type IClientOptions, type IConnackPacket } from 'mqtt';
import {
  deviceTopic,
  encodePayload,
  encodeSmsAlarm,
  readSmsAck,
  type DevicePath,
  parseAck,
  parseCmd,
  type AckMessage,
  type AckStage,
  type AlarmKind,
  type AlarmMessage,
  type CmdMessage,
  type LocMessage,
  type StatusMessage,
  type Vibration,
  type Encoding,
  type Position,
  type ProtocolError,
  type ServingCell,
} from '@amr/protocol';
import { brokerAddress, EndpointChoice } from './endpoints.js';
import { SeqStore } from './state.js';

/** MQTT 3.1.1 CONNACK return codes (§3.2.2.3). */
export const CONNACK_REASONS: Readonly<Record<number, string>> = Object.freeze({
  1: 'unacceptable protocol version',
  2: 'identifier rejected',
  3: 'server unavailable',
  4: 'bad user name or password',
  5: 'not authorized',
});

/** The broker answered CONNACK with a non-zero return code. */
export class RefusedError extends Error {
  constructor(readonly returnCode: number) {
    super(`refused by the broker: ${CONNACK_REASONS[returnCode] ?? `return code ${returnCode}`}`);
    this.name = 'RefusedError';
  }
}

/** No MQTT session could be set up (unreachable, no CONNACK in time, subscription refused). */
export class ConnectError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConnectError';
  }
}

export interface ButtonConfig {
  deviceId: string;
  secret: string;
  mqttUrl: string;
  /**
   * The ordered list of broker endpoints (CONTRACT §1), `mqttUrl` when not given. A connection
   * that fails or is lost moves the button on to the next one (endpoints.ts).
   */
  endpoints?: readonly string[];
  encoding: Encoding;
  /** Where the seq counter is kept (see SeqStore). */
  stateDir: string;
  keepaliveS?: number;
  connectTimeoutMs?: number;
  /** Reconnect delay after a lost connection, as firmware retries (default 1000 ms). */
  reconnectPeriodMs?: number;
  /**
   * Extra mqtt.js options (e.g. TLS `ca`, `servername`, `rejectUnauthorized`). Identity and
   * session options cannot be overridden.
   */
  mqtt?: Partial<IClientOptions>;
  /**
   * A client certificate of the device CA (CONTRACT §1) and its key, PEM: presented over TLS
   * instead of sending the secret (which the button keeps for the SMS path).
   */
  certificate?: { key: string; cert: string };
  /**
   * Keep every ack for `acks` and `waitForAck` from an index (default true). The bench turns it
   * off: its devices ack hundreds of thousands of presses, tracked as they arrive.
   */
  keepAckLog?: boolean;
  /**
   * Opens the transport to endpoint `endpoint` (an index into `endpoints`) instead of the URL
   * (called again on every reconnect): a socket through the shaping link, or one bound to a
   * chosen loopback source address (bench). With an mqtts:// endpoint the button runs TLS over
   * it (the `mqtt` TLS options: `ca`, `servername`, `rejectUnauthorized`), as mqtt.js does for a URL.
   */
  stream?: (endpoint: number) => Duplex;
  /**
   * The SMS path (CONTRACT §6): the MAC key (SHA-256 of the secret) and how a text leaves the
   * button (its modem: the radio and the SMS centre are the caller's). Texts for the button come
   * in through `receiveSms`.
   */
  sms?: { key: Buffer; send: (text: string) => void };
}

export interface AckEvent {
  ack: AckMessage;
  encoding: Encoding;
  /** performance.now() at arrival. */
  at: number;
  /** Milliseconds since the first send of the press with this seq (only for presses of this button). */
  latencyMs?: number;
  /** The seq is one this button pressed since it was created (false: e.g. a queued ack of an earlier run). */
  known: boolean;
  /** This stage was already acked for this seq (e.g. the answer to a retransmission). */
  repeat: boolean;
  /** The path the ack came by. */
  path: DevicePath;
}

export interface PressParams {
  kind?: AlarmKind;
  loc?: Position;
  cell?: ServingCell;
  bat?: number;
  /** Give up when no `received` (or `rejected`) arrives within this time. */
  timeoutMs: number;
  /** Resend the same press (same seq, same bytes) at this period until answered; 0: never. */
  retransmitMs: number;
  signal?: AbortSignal;
  /** performance.now() of the press itself, when it happened before the publish (asleep, no network yet). */
  pressedAt?: number;
  /**
   * Also send the press by SMS when no `received` (or `rejected`) came after this long, ms, and
   * again every `smsRetryMs`; undefined: MQTT only. Needs the button's `sms` channel.
   */
  smsAfterMs?: number;
  smsRetryMs?: number;
}

export type PressOutcome = 'received' | 'rejected' | 'lost' | 'aborted';

export interface PressResult {
  seq: number;
  kind: AlarmKind;
  outcome: PressOutcome;
  /** Press → first `received`, ms. */
  latencyMs?: number;
  retransmissions: number;
  alarmId?: string;
  /** Other alarm ids acks of this same press carried: a duplicated press (must never happen). */
  otherAlarmIds?: string[];
  reason?: string;
  /** Press → first ack of each stage, ms (operator stages included as they arrive). */
  stages: Partial<Record<AckStage, number>>;
  /** The path the first `received` came by. */
  receivedPath?: DevicePath;
  /** Press → first `received` on each path, ms (a path whose answer came later still counts). */
  receivedBy: Partial<Record<DevicePath, number>>;
  /** Texts sent for this press (0: it never fell back to SMS). */
  smsSent: number;
}

export interface ButtonEvents {
  /** `attemptMs`: from opening this connection's transport to its SUBACK (the broker's share of a reconnection). */
  connect: [{ sessionPresent: boolean; reconnect: boolean; attemptMs: number; connackMs: number }];
  offline: [];
  /** An attempt to connect again starts (after each failed one too, unlike `offline`). */
  reconnecting: [];
  /**
   * The transport to `endpoint` closed (a failed attempt or a lost connection): the next attempt
   * goes to `next`, after `waitMs` by the endpoint list's back-off. Emitted before the client
   * schedules that attempt, so a listener can still set its `reconnectPeriod`.
   */
  'transport-closed': [{ endpoint: number; next: number; waitMs: number }];
  'connection-error': [Error];
  sent: [{ seq: number; retransmission: number; bytes: number }];
  ack: [AckEvent];
  cmd: [{ cmd: CmdMessage; encoding: Encoding }];
  'invalid-message': [{ topic: string; error: ProtocolError }];
  /** A press went (again) as an SMS: `attempt` 1 is the fallback, then the retries. */
  'sms-sent': [{ seq: number; attempt: number; length: number }];
  /** The vibration motor plays an ack's pattern (CONTRACT §3 ack `vib`), once per stage of a press. */
  vibrate: [{ pattern: Vibration; stage: AckStage; seq?: number; alarm?: string }];
}

interface PressState {
  seq: number;
  kind: AlarmKind;
  startedAt: number;
  retransmissions: number;
  alarmId?: string;
  /** Alarm ids other than the first one that acks of this press carried (must stay empty). */
  otherAlarmIds?: Set<string>;
  reason?: string;
  stages: Partial<Record<AckStage, number>>;
  receivedPath?: DevicePath;
  receivedBy: Partial<Record<DevicePath, number>>;
  smsSent: number;
}

interface Waiter {
  match: (event: AckEvent) => boolean;
  resolve: (event: AckEvent) => void;
}

export class Button extends EventEmitter<ButtonEvents> {
  readonly deviceId: string;
  readonly topics: { alarm: string; ack: string; cmd: string };
  private readonly seqs: SeqStore;
  private client: MqttClient | undefined;
  private readonly pressStates = new Map<number, PressState>();
  private readonly log: AckEvent[] = [];
  private waiters: Waiter[] = [];
  private inFlight = 0;
  private closing = false;
  readonly endpoints: readonly string[];
  private readonly choice: EndpointChoice;

  constructor(private readonly config: ButtonConfig) {
    super();
    this.deviceId = config.deviceId;
    this.topics = {
      alarm: deviceTopic(config.deviceId, 'alarm'),
      ack: deviceTopic(config.deviceId, 'ack'),
      cmd: deviceTopic(config.deviceId, 'cmd'),
    };
    this.seqs = new SeqStore(config.stateDir);
    this.endpoints = config.endpoints?.length ? [...config.endpoints] : [config.mqttUrl];
    this.choice = new EndpointChoice(this.endpoints.length);
  }

  /** Index in `endpoints` of the broker the button is connected to (or tries next). */
  get endpoint(): number {
    return this.choice.current;
  }

  get connected(): boolean {
    return this.client?.connected ?? false;
  }

  /** Every ack received so far, in arrival order. */
  get acks(): readonly AckEvent[] {
    return this.log;
  }

  /**
   * Connects (clientId = username = device id, MQTT 3.1.1, persistent session) and subscribes
   * QoS 1 to the own ack and cmd topics. Rejects with RefusedError on a CONNACK refusal and with
   * ConnectError otherwise; after the first success, lost connections are retried.
   */
  connect(): Promise<{ sessionPresent: boolean }> {
    if (this.client) return Promise.reject(new Error('already connected'));
    const { deviceId, secret } = this.config;
    const mqttUrl = this.endpoints[this.choice.current]!;
    const several = this.endpoints.length > 1;
    const connectTimeoutMs = this.config.connectTimeoutMs ?? 10_000;
    return new Promise((resolve, reject) => {
      const options: IClientOptions = {
        log: () => undefined, // mqtt.js's debug logging costs every packet a call even when off
        ...this.config.mqtt,
        clientId: deviceId,
        username: deviceId,
        // CONTRACT §1: a client certificate stands in for the secret
        ...(this.config.certificate ? { key: this.config.certificate.key, cert: this.config.certificate.cert } : { password: secret }),
        protocolVersion: 4,
        clean: false,
        keepalive: this.config.keepaliveS ?? 60,
        connectTimeout: connectTimeoutMs,
        reconnectPeriod: this.config.reconnectPeriodMs ?? 1000,
      };
      const stream = this.config.stream;
      // one transport per attempt, to the endpoint chosen for it; its close (before the client's
      // own handler runs) moves the choice on
      let attemptAt = performance.now();
      const open = (): Duplex => {
        attemptAt = performance.now();
        const endpoint = this.choice.current;
        const url = this.endpoints[endpoint]!;
        const secure = /^(mqtts|ssl|tls):/.test(url);
        const transport = stream ? (secure ? tlsOver(stream(endpoint), options, url) : stream(endpoint)) : openUrl(url, options);
        transport.once('close', () => {
          const after = this.choice.failed();
          if (!this.closing) this.emit('transport-closed', { endpoint, ...after });
        });
        return transport;
      };
      const client = stream || several ? new MqttClient(() => open() as never, options) : mqttConnect(mqttUrl, options);
      this.client = client;
      let settled = false;
      let everConnected = false;
      const fail = (error: Error): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        client.end(true);
        reject(error);
      };
      const timer = setTimeout(
        () => fail(new ConnectError(`no answer from the broker at ${mqttUrl} within ${connectTimeoutMs} ms`)),
        connectTimeoutMs,
      );
      // before connecting: a persistent session delivers queued acks right after CONNACK
      client.on('message', (topic, payload) => this.onMessage(topic, payload));
      client.on('error', (error: Error & { code?: unknown }) => {
        const mapped =
          typeof error.code === 'number'
            ? new RefusedError(error.code)
            : new ConnectError(`cannot connect to ${this.endpoints[this.choice.current]}: ${String(error.code ?? error.message)}`);
        // with several endpoints an unreachable one is not the end: the next is tried (until the
        // connect timeout); a refusal is final, since every node accepts the same devices
        if (!settled && (!several || mapped instanceof RefusedError)) fail(mapped);
        else if (!this.closing) this.emit('connection-error', mapped);
      });
      client.on('offline', () => {
        if (settled && !this.closing) this.emit('offline');
      });
      client.on('reconnect', () => {
        attemptAt = performance.now();
        if (settled && !this.closing) this.emit('reconnecting');
      });
      client.on('connect', (connack: IConnackPacket) => {
        this.choice.connected();
        // Nagle + delayed ACK cost ~88 ms per round trip otherwise
        (client.stream as { setNoDelay?: (on: boolean) => void }).setNoDelay?.(true);
        const reconnect = everConnected;
        everConnected = true;
        const sessionPresent = connack.sessionPresent;
        const connackMs = performance.now() - attemptAt;
        this.subscribe(client).then(
          () => {
            if (!settled) {
              settled = true;
              clearTimeout(timer);
              resolve({ sessionPresent });
            }
            this.emit('connect', { sessionPresent, reconnect, attemptMs: performance.now() - attemptAt, connackMs });
          },
          (error: Error) => {
            if (!settled) fail(error);
            else if (!this.closing) this.emit('connection-error', error);
          },
        );
      });
    });
  }

  /**
   * One press: a new seq (persisted first), published QoS 1 to the alarm topic, resent with the
   * same seq every `retransmitMs` until `received` or `rejected` for it arrives, or the timeout.
   */
  async press(params: PressParams): Promise<PressResult> {
    const client = this.client;
    if (!client) throw new Error('press before connect');
    const kind = params.kind ?? 'panic';
    const seq = await this.seqs.next(this.deviceId);
    const message: AlarmMessage = {
      seq,
      ts: Math.floor(Date.now() / 1000),
      kind,
      ...(params.loc ? { loc: params.loc } : {}),
      ...(params.cell ? { cell: params.cell } : {}),
      ...(params.bat !== undefined ? { bat: params.bat } : {}),
    };
    const payload = encodePayload(message, this.config.encoding);
    const state: PressState = { seq, kind, startedAt: 0, retransmissions: 0, stages: {}, receivedBy: {}, smsSent: 0 };
    const since = this.log.length;
    this.pressStates.set(seq, state);
    state.startedAt = params.pressedAt ?? performance.now();
    this.publish(this.topics.alarm, payload);
    this.emit('sent', { seq, retransmission: 0, bytes: payload.length });

    const retransmit =
      params.retransmitMs > 0
        ? setInterval(() => {
            state.retransmissions += 1;
            this.publish(this.topics.alarm, payload);
            this.emit('sent', { seq, retransmission: state.retransmissions, bytes: payload.length });
          }, params.retransmitMs)
        : undefined;
    const sms = this.config.sms;
    const smsTimers: NodeJS.Timeout[] = [];
    if (sms && params.smsAfterMs !== undefined) {
      const text = smsText(this.deviceId, message, sms.key);
      const sendSms = (): void => {
        if (state.stages.received !== undefined || state.stages.rejected !== undefined) return;
        state.smsSent += 1;
        sms.send(text);
        this.emit('sms-sent', { seq, attempt: state.smsSent, length: text.length });
      };
      // the wait runs from the press itself (the button knows when it was pressed)
      const first = Math.max(0, params.smsAfterMs - (performance.now() - state.startedAt));
      smsTimers.push(
        setTimeout(() => {
          sendSms();
          if (params.smsRetryMs) smsTimers.push(setInterval(sendSms, params.smsRetryMs));
        }, first),
      );
    }
    let answer: AckEvent | undefined;
    try {
      answer = await this.waitForAck((e) => e.ack.seq === seq && (e.ack.stage === 'received' || e.ack.stage === 'rejected'), {
        timeoutMs: params.timeoutMs,
        since,
        ...(params.signal ? { signal: params.signal } : {}),
      });
    } finally {
      clearInterval(retransmit);
      for (const timer of smsTimers) clearTimeout(timer);
    }
    const outcome: PressOutcome = answer
      ? answer.ack.stage === 'received'
        ? 'received'
        : 'rejected'
      : params.signal?.aborted
        ? 'aborted'
        : 'lost';
    return this.result(state, outcome);
  }

  /**
   * Publishes a heartbeat (`status`), a position (`loc`) or a press whose acks the caller tracks
   * itself (`alarm`: the bench, from the acks this button emits), QoS 1 (CONTRACT §2).
   */
  publishUp(channel: 'status', message: StatusMessage): void;
  publishUp(channel: 'loc', message: LocMessage): void;
  publishUp(channel: 'alarm', message: AlarmMessage): void;
  publishUp(channel: 'status' | 'loc' | 'alarm', message: StatusMessage | LocMessage | AlarmMessage): void {
    this.publish(deviceTopic(this.deviceId, channel), encodePayload(message, this.config.encoding));
  }

  /** The underlying client (reconnect tuning). */
  get mqttClient(): MqttClient | undefined {
    return this.client;
  }

  /** The current result of a press of this button (stages keep filling in as acks arrive). */
  pressResult(seq: number): PressResult | undefined {
    const state = this.pressStates.get(seq);
    if (!state) return undefined;
    return this.result(state, state.stages.received !== undefined ? 'received' : state.stages.rejected !== undefined ? 'rejected' : 'lost');
  }

  /**
   * The first ack from index `since` of `acks` on (already received or still to come) that
   * matches; undefined on timeout or abort.
   */
  waitForAck(
    match: (event: AckEvent) => boolean,
    options: { timeoutMs: number; since?: number; signal?: AbortSignal },
  ): Promise<AckEvent | undefined> {
    const seen = this.log.slice(options.since ?? 0).find(match);
    if (seen) return Promise.resolve(seen);
    const { signal } = options;
    if (signal?.aborted) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      const done = (event: AckEvent | undefined): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        this.waiters = this.waiters.filter((w) => w !== waiter);
        resolve(event);
      };
      const onAbort = (): void => done(undefined);
      const waiter: Waiter = { match, resolve: done };
      const timer = setTimeout(() => done(undefined), options.timeoutMs);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(waiter);
    });
  }

  /**
   * A text for this button's number, as its modem hands it over: an ack that verifies with the
   * button's key (CONTRACT §6) is taken like one over MQTT; anything else is ignored and counted.
   */
  receiveSms(text: string): void {
    const at = performance.now();
    const key = this.config.sms?.key;
    if (!key) return;
    const read = readSmsAck(text, key);
    if (!read.ok) {
      this.emit('invalid-message', { topic: 'sms', error: read.error });
      return;
    }
    this.onAck(read.value, 'cbor', at, 'sms');
  }

  /** Disconnects; waits for outstanding PUBACKs only if there are none (a lost broker cannot hang this). */
  async close(): Promise<void> {
    const client = this.client;
    if (!client || this.closing) return;
    this.closing = true;
    await client.endAsync(this.inFlight > 0 || !client.connected);
  }

  // ---- internals -------------------------------------------------------------------------------

  private async subscribe(client: MqttClient): Promise<void> {
    const grants = await client.subscribeAsync({ [this.topics.ack]: { qos: 1 }, [this.topics.cmd]: { qos: 1 } });
    const refused = grants.filter((g) => g.qos === 128).map((g) => g.topic);
    if (refused.length > 0) throw new ConnectError(`the broker refused the subscription to ${refused.join(', ')}`);
  }

  private publish(topic: string, payload: Buffer): void {
    const client = this.client;
    if (!client) return;
    this.inFlight += 1;
    client.publish(topic, payload, { qos: 1 }, (error) => {
      this.inFlight -= 1;
      if (error && !this.closing) this.emit('connection-error', error);
    });
  }

  private onMessage(topic: string, payload: Buffer): void {
    const at = performance.now();
    if (topic === this.topics.ack) {
      const parsed = parseAck(payload);
      if (!parsed.ok) {
        this.emit('invalid-message', { topic, error: parsed.error });
        return;
      }
      this.onAck(parsed.message, parsed.encoding, at, 'mqtt');
    } else if (topic === this.topics.cmd) {
      const parsed = parseCmd(payload);
      if (parsed.ok) this.emit('cmd', { cmd: parsed.message, encoding: parsed.encoding });
      else this.emit('invalid-message', { topic, error: parsed.error });
    }
  }

  private onAck(ack: AckMessage, encoding: Encoding, at: number, path: DevicePath): void {
    const state = ack.seq === undefined ? undefined : this.pressStates.get(ack.seq);
    let event: AckEvent;
    if (state) {
      const latencyMs = at - state.startedAt;
      const repeat = state.stages[ack.stage] !== undefined;
      if (ack.stage === 'received') {
        state.receivedBy[path] ??= latencyMs;
        if (!repeat) state.receivedPath = path;
      }
      if (!repeat) {
        state.stages[ack.stage] = latencyMs;
        this.emit('vibrate', { pattern: ack.vib, stage: ack.stage, seq: ack.seq, ...(ack.alarm !== undefined ? { alarm: ack.alarm } : {}) });
      }
      if (ack.alarm !== undefined && state.alarmId !== undefined && ack.alarm !== state.alarmId) {
        (state.otherAlarmIds ??= new Set()).add(ack.alarm);
      }
      if (ack.alarm !== undefined) state.alarmId ??= ack.alarm;
      if (ack.stage === 'rejected' && ack.reason !== undefined) state.reason ??= ack.reason;
      event = { ack, encoding, at, latencyMs, known: true, repeat, path };
    } else {
      event = { ack, encoding, at, known: false, repeat: false, path };
    }
    if (this.config.keepAckLog !== false) this.log.push(event);
    this.emit('ack', event); // listeners (printing) first, then the waiters
    for (const waiter of [...this.waiters]) {
      if (waiter.match(event)) waiter.resolve(event);
    }
  }

  private result(state: PressState, outcome: PressOutcome): PressResult {
    return {
      seq: state.seq,
      kind: state.kind,
      outcome,
      ...(state.stages.received !== undefined ? { latencyMs: state.stages.received } : {}),
      retransmissions: state.retransmissions,
      ...(state.alarmId !== undefined ? { alarmId: state.alarmId } : {}),
      ...(state.otherAlarmIds ? { otherAlarmIds: [...state.otherAlarmIds] } : {}),
      ...(state.reason !== undefined ? { reason: state.reason } : {}),
      stages: { ...state.stages },
      ...(state.receivedPath !== undefined ? { receivedPath: state.receivedPath } : {}),
      receivedBy: { ...state.receivedBy },
      smsSent: state.smsSent,
    };
  }
}

/**
 * The press as one text (CONTRACT §6): the whole alarm when it fits, else without what it can
 * spare — `cell` first, then `loc.ts`, then `loc.src` (docs/protocol.md §10).
 */
export function smsText(deviceId: string, alarm: AlarmMessage, key: Buffer): string {
  const { cell: _cell, ...noCell } = alarm;
  const loc = alarm.loc;
  const tries: AlarmMessage[] = [alarm, noCell];
  if (loc) {
    const { ts: _ts, ...noTs } = loc;
    const { src: _src, ...noSrc } = noTs;
    tries.push({ ...noCell, loc: noTs }, { ...noCell, loc: noSrc });
  }
  let last: Error | undefined;
  for (const candidate of tries) {
    const sealed = encodeSmsAlarm(deviceId, candidate, key);
    if (sealed.ok) return sealed.value;
    last = sealed.error;
  }
  throw new Error(`the press does not fit one SMS: ${last?.message}`);
}

/**
 * A transport to one endpoint of a list (mqtt:// or mqtts://; a list of ws:// URLs is refused
 * when parsed): TCP with TCP_NODELAY, or TLS verified as mqtt.js verifies an mqtts:// URL.
 */
function openUrl(url: string, options: IClientOptions): Duplex {
  const { host, port, tls } = brokerAddress(url);
  if (!tls) return netConnect({ host, port, noDelay: true });
  return tlsOver(netConnect({ host, port, noDelay: true }), options, url);
}

/**
 * TLS over a given transport, verified as mqtt.js verifies an mqtts:// URL (certificate and host
 * name: the `servername` option, else the endpoint's host).
 */
function tlsOver(socket: Duplex, options: IClientOptions, url: string): Duplex {
  const name = options.servername ?? brokerAddress(url).host;
  return tlsConnect({
    socket,
    host: name, // the name the certificate is checked against
    ...(isIP(name) ? {} : { servername: name }), // SNI carries host names only (RFC 6066)
    ...(options.ca !== undefined ? { ca: options.ca } : {}),
    ...(options.key !== undefined && options.cert !== undefined ? { key: options.key, cert: options.cert } : {}), // a client certificate
    rejectUnauthorized: options.rejectUnauthorized !== false,
  });
}
