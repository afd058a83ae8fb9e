/**
 * The simulated CIC: an SSE client of `GET /api/v1/events` (CONTRACT §4) that timestamps when
 * each alarm becomes visible at the centre ("delivery at the CIC" = the `alarm.received` event
 * arriving here), and an automatic operator that accepts, dispatches and closes each alarm
 * after configurable delays through the real HTTP API; optionally it confirms delivery of every
 * alarm as an integration of the alarm's CIC (cic-delivery.ts). Node 20 has no EventSource: the
 * stream is read with fetch and parsed with eventsource-parser.
 */
import { performance } from 'node:perf_hooks';
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import type { AlarmKind } from '@amr/protocol';
import { postPatiently, type ApiClient } from './api.js';
import { Limiter } from './limiter.js';
import { DeliveryConfirmations, type CicClients } from './cic-delivery.js';

export interface AlarmEventData {
  id: string;
  deviceId: string;
  /** The CIC the alarm is routed to (another one after a hand-over). */
  cicId?: string;
  kind?: AlarmKind;
  stage?: string;
  pressCount?: number;
  /** When the platform opened the alarm (ISO 8601): its first press. */
  receivedAt?: string;
}

/** The first sight of an alarm at the CIC. */
export interface CicReceived {
  /** performance.now() of its arrival. */
  at: number;
  deviceId: string;
  kind?: string;
  /** When the platform opened it (Unix ms), when the event said. */
  openedAt?: number;
}

function received(alarm: AlarmEventData, at: number): CicReceived {
  const openedAt = alarm.receivedAt ? Date.parse(alarm.receivedAt) : NaN;
  return { at, deviceId: alarm.deviceId, ...(alarm.kind ? { kind: alarm.kind } : {}), ...(Number.isFinite(openedAt) ? { openedAt } : {}) };
}

/** One `alarm.received` / `alarm.pressed` event at the CIC. */
export interface CicArrival {
  /** performance.now() of its arrival. */
  at: number;
  /** The alarm's press count in the event (absent when the platform does not send it). */
  pressCount?: number;
  /** `alarm.received` (the alarm's first press) rather than `alarm.pressed`. */
  received: boolean;
}

/**
 * The simulated operator's calls in flight at most (accept, dispatch, close); the rest wait in
 * order, as at a centre's desks. Their wait is part of the accept and close times it reports.
 */
export const OPERATOR_DESKS = 32;

export interface OperatorDelays {
  /** From the CIC seeing an alarm to accept, ms. */
  acceptMs: number;
  /** From accept to dispatch, ms (test alarms are never dispatched). */
  dispatchMs: number;
  /** From dispatch (or accept) to close, ms. */
  closeMs: number;
}

export interface CicStats {
  events: number;
  /** Alarms first seen by the sweep after a reconnection (their events were missed). */
  swept: number;
  reconnects: number;
  operatorErrors: string[];
  closed: number;
  /** Events whose id had been seen already (a replay after reconnecting with Last-Event-ID). */
  replayed: number;
  /** `alarm.received` events, under new event ids, for an alarm already announced. */
  repeatedReceived: number;
  /** Delivery confirmations (`POST …/delivered`) answered 2xx, and refused or failed. */
  delivered: number;
  deliveryErrors: string[];
}

export interface CicOptions {
  /**
   * Confirm delivery of every alarm that arrives (`alarm.received`, or found by the sweep) with
   * `POST /api/v1/alarms/{id}/delivered` (CONTRACT §4), through the client this gives for the
   * alarm's CIC: an integration of that CIC, whatever token the stream is read with (the admin's
   * sees every CIC). Apart from the operator, bounded in concurrency; a refusal is counted, not fatal.
   */
  confirmDelivery?: CicClients;
  /** Dispatch between accept and close (default true; test alarms never are). */
  dispatch?: boolean;
}

/**
 * Watches the event stream and (optionally) confirms the delivery of and operates every alarm it
 * sees. Times are performance.now(), comparable with the buttons' in this process.
 */
export class SimulatedCic {
  /** alarm id → first `alarm.received` seen. */
  readonly receivedAt = new Map<string, CicReceived>();
  /** alarm id → every `alarm.received` / `alarm.pressed` arrival (a press joining an open alarm). */
  readonly pressEvents = new Map<string, number[]>();
  /** The same arrivals with the alarm's press count each event carried (which press it shows). */
  readonly arrivals = new Map<string, CicArrival[]>();
  readonly stats: CicStats = { events: 0, swept: 0, reconnects: 0, operatorErrors: [], closed: 0, replayed: 0, repeatedReceived: 0, delivered: 0, deliveryErrors: [] };
  /** alarm id → when the operator's accept was answered 2xx (the device must then get `accepted`). */
  readonly acceptedAt = new Map<string, number>();
  private readonly seenEventIds = new Set<string>();
  private lastEventId: string | undefined;
  private readonly operated = new Set<string>();
  /** The operator's calls in flight at most (OPERATOR_DESKS), the others queued in order. */
  private readonly desks = new Limiter(OPERATOR_DESKS);
  private readonly pending = new Set<Promise<unknown>>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly confirmations: DeliveryConfirmations | undefined;
  private abort = new AbortController();
  private stopped = false;
  private connectedOnce: Promise<void> | undefined;

  constructor(
    private readonly api: ApiClient,
    private readonly token: string,
    private readonly operator: OperatorDelays | null,
    private readonly options: CicOptions = {},
  ) {
    this.confirmations = options.confirmDelivery ? new DeliveryConfirmations(options.confirmDelivery, this.stats) : undefined;
  }

  /** Opens the stream; resolves once the server has answered with 200. Reconnects on its own until stop(). */
  start(): Promise<void> {
    this.connectedOnce ??= new Promise((resolve, reject) => void this.loop(resolve, reject));
    return this.connectedOnce;
  }

  /**
   * After the stream was re-opened: it resumes from Last-Event-ID, and the open alarms are also
   * fetched (`GET /api/v1/alarms?state=open`), as a CIC console does, for what the stream cannot
   * replay (no event seen before the break, or one older than the event log keeps). An alarm this
   * sweep sees first counts as delivered then, and is confirmed and operated like the others.
   */
  async sweepOpen(): Promise<void> {
    const open = await this.api.get<AlarmEventData[]>('/api/v1/alarms?state=open').catch(() => undefined);
    const at = performance.now();
    for (const alarm of open?.body ?? []) {
      if (typeof alarm?.id !== 'string') continue;
      if (!this.receivedAt.has(alarm.id)) {
        this.receivedAt.set(alarm.id, received(alarm, at));
        this.recordPress(alarm, at, true);
        this.stats.swept += 1;
      }
      this.confirmations?.confirm(alarm);
      this.operate(alarm);
    }
  }

  /** Waits for scheduled operator actions and queued confirmations to finish (bounded), then closes the stream. */
  async stop(graceMs = 0): Promise<void> {
    const deadline = performance.now() + graceMs;
    const busy = () => this.timers.size > 0 || this.pending.size > 0 || this.confirmations?.idle === false;
    while (busy() && performance.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
    }
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    this.abort.abort();
    await Promise.allSettled([...this.pending, this.confirmations?.stop()]);
  }

  private async loop(resolve: () => void, reject: (e: Error) => void): Promise<void> {
    let first = true;
    let backoff = 250;
    let failures = 0;
    while (!this.stopped) {
      try {
        // Last-Event-ID: a stream that reconnects, to any node, continues without a gap (CONTRACT §4)
        const response = await fetch(`${this.api.baseUrl}/api/v1/events`, {
          headers: { authorization: `Bearer ${this.token}`, accept: 'text/event-stream', ...(this.lastEventId !== undefined ? { 'last-event-id': this.lastEventId } : {}) },
          signal: this.abort.signal,
        });
        if (!response.ok || !response.body) throw new Error(`GET /api/v1/events: HTTP ${response.status}`);
        if (first) resolve();
        else {
          this.stats.reconnects += 1;
          void this.sweepOpen();
        }
        first = false;
        backoff = 250;
        let at = 0; // when the chunk being parsed arrived
        const parser = createParser({ onEvent: (event) => this.onEvent(event, at) });
        const decoder = new TextDecoder();
        for await (const chunk of response.body) {
          at = performance.now();
          parser.feed(decoder.decode(chunk as Uint8Array, { stream: true }));
        }
      } catch (error) {
        if (this.stopped) return;
        if (first && ++failures > 20) {
          reject(error instanceof Error ? error : new Error(String(error)));
          return;
        }
      }
      if (this.stopped) return;
      this.api.failover(); // the node may be gone: the next one of several (a no-op with one)
      await new Promise((r) => setTimeout(r, backoff));
      backoff = Math.min(backoff * 2, 1000);
    }
  }

  private onEvent(event: EventSourceMessage, at: number): void {
    this.stats.events += 1;
    if (event.id !== undefined) {
      if (this.seenEventIds.has(event.id)) {
        this.stats.replayed += 1;
        return;
      }
      this.seenEventIds.add(event.id);
      this.lastEventId = event.id;
    }
    if (event.event !== 'alarm.received' && event.event !== 'alarm.pressed') return;
    let alarm: AlarmEventData;
    try {
      alarm = JSON.parse(event.data) as AlarmEventData;
    } catch {
      return;
    }
    if (typeof alarm?.id !== 'string') return;
    if (event.event === 'alarm.received' && !this.receivedAt.has(alarm.id)) {
      this.receivedAt.set(alarm.id, received(alarm, at));
    } else if (event.event === 'alarm.received') {
      this.stats.repeatedReceived += 1;
    }
    // a repeated `alarm.received` may be a hand-over: the alarm is then its new CIC's to confirm
    if (event.event === 'alarm.received') this.confirmations?.confirm(alarm);
    this.recordPress(alarm, at, event.event === 'alarm.received');
    this.operate(alarm);
  }

  private recordPress(alarm: AlarmEventData, at: number, received: boolean): void {
    const times = this.pressEvents.get(alarm.id);
    if (times) times.push(at);
    else this.pressEvents.set(alarm.id, [at]);
    const arrival: CicArrival = { at, received, ...(typeof alarm.pressCount === 'number' ? { pressCount: alarm.pressCount } : {}) };
    const list = this.arrivals.get(alarm.id);
    if (list) list.push(arrival);
    else this.arrivals.set(alarm.id, [arrival]);
  }

  private operate(alarm: AlarmEventData): void {
    const delays = this.operator;
    if (!delays || this.operated.has(alarm.id) || this.stopped) return;
    this.operated.add(alarm.id);
    const id = encodeURIComponent(alarm.id);
    const steps: Array<[number, string, unknown]> = [[delays.acceptMs, 'accept', {}]];
    if (alarm.kind !== 'test' && this.options.dispatch !== false) steps.push([delays.dispatchMs, 'dispatch', { unit: 'SIM-1', etaMin: 5 }]);
    steps.push([delays.closeMs, 'close', { outcome: 'simulated' }]);
    const run = (i: number): void => {
      const step = steps[i];
      if (!step || this.stopped) return;
      const [delay, action, body] = step;
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        const call = this.desks.run(() => postPatiently(this.api, `/api/v1/alarms/${id}/${action}`, body, this.stats.operatorErrors, () => this.stopped)).then((ok) => {
          if (ok && action === 'close') this.stats.closed += 1;
          if (ok && action === 'accept') this.acceptedAt.set(alarm.id, performance.now());
          if (ok) run(i + 1);
        });
        this.track(call);
      }, delay);
      this.timers.add(timer);
    };
    run(0);
  }

  private track(p: Promise<unknown>): void {
    this.pending.add(p);
    void p.finally(() => this.pending.delete(p));
  }
}
