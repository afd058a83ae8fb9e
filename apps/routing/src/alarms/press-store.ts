import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { Alarm, GroupCommit, asReal, inTransaction, reservedConnections, stepTimer, type ConnectionSource, type ProtectionCase, type Sql, type TransactionOptions } from '@amr/persistence';
import { makeAck, type AckMessage, type AlarmMessage, type DevicePath, type Encoding } from '@amr/protocol';
import type { AmrConfig } from '@amr/config';
import { AMR_CONFIG, DATA_SOURCE, Metrics, PlatformEvents, eventRows, insertEventsSql, type PlatformEvent } from '@amr/runtime';
import {
  AlarmAnnouncer, DeviceAcks, alarmAudience, alarmViewParts, buildAlarmView, caseFromRow, chainEntries, headsByAlarm, timelineHeads, viewPartsOf, withAppended,
  type AckRoute, type AlarmView, type PositionView, type TimelineInput, type ViewParts,
} from '@amr/alarms';
import type { CicArea } from '@amr/geo';
import { CicRouter, type RouteDecision } from './cic-router.js';
import { RepeatAnswers } from './repeat-answers.js';
import { JoinAnnouncements } from './join-announcements.js';

/** A press as the pipeline hands it over: validated, with the time it reached the platform. */
export interface PressInput {
  readonly deviceId: string;
  readonly press: AlarmMessage;
  readonly encoding: Encoding;
  readonly receivedAt: Date;
  /** The path it came by, and the paths its ack takes (the timeline records both). */
  readonly path: DevicePath;
  readonly acks: readonly DevicePath[];
  /**
   * The press is answered by SMS too (it came by SMS): its `received` (or `rejected`) — and the
   * alarm's later stage, if it is past `received` — is written to the SMS outbox in the press's
   * own transaction, so a crash after the commit cannot lose it.
   */
  readonly sms?: AckRoute['sms'];
}

/** An existing alarm as a press that joins or repeats it needs it. */
export type StoredAlarm = Pick<Alarm, 'id' | 'deviceId' | 'stage' | 'pressCount' | 'retransmissions' | 'lastSeq' | 'flags'>;

/** What the stored press turned out to be. */
export type PressOutcome =
  | { kind: 'new'; alarm: Alarm; seq: number; protectionCase: ProtectionCase; route: RouteDecision; view: AlarmView }
  | { kind: 'joined' | 'retransmission'; alarm: StoredAlarm; seq: number }
  | { kind: 'refused'; seq: number; reason: string }
  /** An SMS press whose seq does not move past the device's newest press and is no retransmission: a replayed text. */
  | { kind: 'stale'; seq: number; lastSeq: number };

type TimelineRow = ReturnType<typeof chainEntries>[number];

/** Presses of an open alarm beyond this many are counted (pressCount), not each written to its timeline. */
export const TIMELINE_PRESSES = 20;
/** Repeats of a stored (device, seq) beyond this many are counted (retransmissions), not written to the timeline. */
export const TIMELINE_RETRANSMISSIONS = 3;
/** Presses stored in one transaction at most. */
const MAX_BATCH = 500;
/** How long the answer to a press sent again and again is given from memory (RepeatAnswers). */
const REPEAT_ANSWER_MS = 15_000;
/** How often the copies answered from memory are added to their alarms' `retransmissions`. */
const REPEAT_COUNT_MS = 1_000;

interface Pending {
  readonly input: PressInput;
  /** process.hrtime.bigint() when it was handed over: its wait for a batch is a step of its own. */
  readonly queuedAt: bigint;
  readonly resolve: (outcome: PressOutcome) => void;
  readonly reject: (err: unknown) => void;
}

/**
 * Stores presses with group commit: a press is written at once when the database is free, and the
 * presses that arrive while a transaction is in flight are stored together in the next one. Each
 * press is still deduped, routed and answered on its own; a batch costs the same few statements
 * whatever its size (lock and read everything, one write, commit), in plain SQL.
 *
 * A batch never holds two presses of one device (the ingress runs a device's messages one at a
 * time), and devices are locked in id order, so batches on several nodes cannot deadlock. If a
 * batch fails, its presses are retried one by one, so one bad press cannot sink the others.
 */
@Injectable()
export class PressStore implements OnApplicationShutdown {
  private readonly logger = new Logger('PressStore');
  private readonly batches: GroupCommit<Pending>;
  /** A press a button keeps sending, answered without the database once its timeline is full. */
  private readonly repeats = new RepeatAnswers(TIMELINE_RETRANSMISSIONS, REPEAT_ANSWER_MS);
  private readonly repeatCounts: NodeJS.Timeout;
  /** Which joins are announced by their own transaction, and the rest (JoinAnnouncements). */
  private readonly joins: JoinAnnouncements;
  /**
   * Every step of a press transaction timed (amr_press_step_seconds: where a press's time goes);
   * on PostgreSQL, BEGIN sent with the lookup and COMMIT with the write: a batch in two round trips
   * when its presses open alarms, three when they join them (the alarms locked and their timeline
   * heads read together).
   */
  private readonly tx: TransactionOptions;
  private readonly connections: ConnectionSource;

  constructor(
    @Inject(AMR_CONFIG) private readonly config: AmrConfig,
    @Inject(DATA_SOURCE) private readonly db: DataSource,
    private readonly router: CicRouter,
    private readonly metrics: Metrics,
    private readonly events: PlatformEvents,
    private readonly acks: DeviceAcks,
    announcer: AlarmAnnouncer,
  ) {
    this.joins = new JoinAnnouncements(announcer);
    this.tx = { timed: stepTimer((step, seconds) => metrics.pressStep.observe({ step }, seconds)) };
    // two batches at a time on PostgreSQL, on connections of their own (two more for the presses
    // stored alone, which wait for a lock); the embedded database has one connection
    this.connections = reservedConnections(db, 'presses', 4);
    this.batches = new GroupCommit((batch) => this.runBatch(batch), { maxBatch: MAX_BATCH, maxInFlight: config.database.url ? 2 : 1 });
    this.repeatCounts = setInterval(() => void this.countRepeats(), REPEAT_COUNT_MS);
    this.repeatCounts.unref();
  }

  /**
   * Resolves after the commit (or rejects: nothing of this press was stored); a copy of a press
   * answered moments ago may be answered from memory (RepeatAnswers).
   */
  store(input: PressInput): Promise<PressOutcome> {
    const repeat = this.repeats.answer(input);
    if (repeat) return Promise.resolve(repeat);
    return new Promise((resolve, reject) => this.batches.add({ input, queuedAt: process.hrtime.bigint(), resolve, reject }));
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.repeatCounts);
    this.joins.clear();
    await this.countRepeats();
  }

  /** The copies answered from memory, added to their alarms' `retransmissions`. */
  private async countRepeats(): Promise<void> {
    this.repeats.prune();
    const counts = this.repeats.takeCounts();
    if (counts.length === 0) return;
    try {
      await this.db.query(
        `UPDATE alarms a SET retransmissions = a.retransmissions + x.n FROM jsonb_to_recordset($1::jsonb) AS x(id uuid, n int) WHERE a.id = x.id`,
        [JSON.stringify(counts)],
      );
    } catch (err) {
      this.logger.warn(`retransmissions of ${counts.length} alarm(s) not counted: ${String(err)}`);
    }
  }

  /** What the database made of each press: its answer may be given from memory next time. */
  private settled(input: PressInput, outcome: PressOutcome): PressOutcome {
    this.repeats.learn(input, outcome);
    return outcome;
  }

  private async runBatch(batch: Pending[]): Promise<void> {
    this.metrics.pressBatch.observe(batch.length);
    const started = process.hrtime.bigint();
    for (const p of batch) this.metrics.pressStep.observe({ step: 'queued' }, Number(started - p.queuedAt) / 1e9);
    try {
      const areas = await this.router.coverage(this.db.manager);
      const inputs = batch.map((p) => p.input);
      const written = await inTransaction(this.connections, (sql) => this.write(sql, areas, inputs, false), this.tx);
      this.announced(written, inputs);
      const { outcomes } = written;
      batch.forEach((p, i) => {
        const outcome = outcomes[i]!;
        // Its device is locked by another transaction (another node, a telemetry write): that
        // press waits on its own, the batch does not wait for it.
        if (outcome.kind === 'busy') void this.storeAlone(p);
        else p.resolve(this.settled(p.input, outcome));
      });
    } catch (err) {
      if (batch.length === 1) return batch[0]!.reject(err);
      this.logger.warn(`a batch of ${batch.length} presses failed (${String(err)}); storing them one by one`);
      await Promise.all(batch.map((p) => this.storeAlone(p)));
    }
  }

  /** One press in its own transaction, waiting for its device's lock if need be. */
  private async storeAlone(p: Pending): Promise<void> {
    try {
      const areas = await this.router.coverage(this.db.manager);
      const written = await inTransaction(this.connections, (sql) => this.write(sql, areas, [p.input], true), this.tx);
      this.announced(written, [p.input]);
      p.resolve(this.settled(p.input, written.outcomes[0] as PressOutcome));
    } catch (err) {
      p.reject(err);
    }
  }

  /**
   * A committed batch that opened alarms or announced joins wrote their events: the streams read
   * them now; the joins it did not announce are announced by the AlarmAnnouncer. One that queued SMS
   * acks wakes the SMS sender: a `received` text does not wait for a sweep.
   */
  private announced({ outcomes, logged, unannounced }: Written, inputs: readonly PressInput[]): void {
    if (logged) this.events.committed();
    this.joins.committed(unannounced);
    if (inputs.some((input, i) => input.sms && smsAcks(outcomes[i]!).length > 0)) this.acks.smsCommitted();
  }

  /**
   * dedupe → route → persist for a batch of presses of distinct devices; outcomes in input order.
   * Without `wait`, a press whose device is locked elsewhere is left out (`busy`).
   */
  private async write(sql: Sql, areas: readonly CicArea[], inputs: readonly PressInput[], wait: boolean): Promise<Written> {
    const found = await this.lockAndRead(sql, inputs, wait);
    const { alarms: existing, heads, views } = await this.lockAlarms(sql, found);
    const outcomes: (PressOutcome | Busy)[] = [];
    const writes = new Writes();
    /** Joins announced by this transaction (the alarm's view read above), and those whose view was not read: the announcer's. */
    const announcing: { alarmId: string; input: PressInput }[] = [];
    const unannounced: string[] = [];

    for (const [i, input] of inputs.entries()) {
      const { deviceId, press, receivedAt: now } = input;
      const paths = { path: input.path, acks: input.acks };
      const row = found.get(i);
      if (!row) {
        outcomes.push(wait ? { kind: 'refused', seq: press.seq, reason: 'unknown device' } : { kind: 'busy' });
        continue;
      }

      // dedupe — the same (device, seq) again is the same press: same alarm id, `received` again.
      const earlier = row.rt_alarm_id ? existing.get(row.rt_alarm_id) : undefined;
      if (earlier && this.isRetransmission(row, earlier, press, now)) {
        if (earlier.retransmissions < TIMELINE_RETRANSMISSIONS) writes.event(earlier.id, 'retransmission', { seq: press.seq, ...paths }, now);
        earlier.retransmissions += 1;
        writes.retransmitted.push({ id: earlier.id });
        writes.device(input, false);
        outcomes.push({ kind: 'retransmission', alarm: earlier, seq: press.seq });
        continue;
      }

      // A seq that does not move forward (a counter reset, a replaced device) is still an alarm,
      // flagged for the operator (CONTRACT §3 ack).
      const lastSeq = row.last_alarm_seq == null ? null : Number(row.last_alarm_seq);
      const backwards = lastSeq != null && press.seq <= lastSeq;
      // Over MQTT the connection is authenticated, so such a press is the button's (flagged, above).
      // An SMS can be captured and sent again by anyone: it must move forward (CONTRACT §6).
      if (backwards && input.path === 'sms') {
        outcomes.push({ kind: 'stale', seq: press.seq, lastSeq });
        continue;
      }
      const flags = backwards ? ['unexpected-seq'] : [];
      const open = row.open_id ? existing.get(row.open_id) : undefined;

      if (open && open.stage !== 'closed') {
        // A new press while an alarm is open joins it.
        open.pressCount += 1;
        open.lastSeq = press.seq;
        open.flags = [...new Set([...open.flags, ...flags])];
        if (open.pressCount <= TIMELINE_PRESSES) {
          writes.event(open.id, 'press', { seq: press.seq, pressCount: open.pressCount, ...paths, ...(flags.length ? { flags } : {}) }, now);
        }
        writes.joined.push({ id: open.id, seq: press.seq, at: now.toISOString(), flags });
        writes.press(open.id, input);
        writes.device(input, true);
        if (!views.has(open.id)) unannounced.push(open.id);
        else if (this.joins.claim(open.id)) announcing.push({ alarmId: open.id, input });
        outcomes.push({ kind: 'joined', alarm: open, seq: press.seq });
        continue;
      }

      // route — by position when it is usable, else the case's home CIC. (The case is read with the
      // device unless it had an open alarm: that alarm was closed in between, so read it now.)
      if (row.case_id && !row.case_row) {
        const [found] = await sql('press-case', `SELECT to_jsonb(c) AS case_row FROM cases c WHERE c.id = $1`, [row.case_id]);
        row.case_row = (found?.case_row as Record<string, unknown> | undefined) ?? null;
      }
      if (!row.case_id || !row.case_row) {
        this.logger.error(`${deviceId}: press ${press.seq} refused: the device is not assigned to a protection case`);
        outcomes.push({ kind: 'refused', seq: press.seq, reason: 'device not assigned to a protection case' });
        continue;
      }
      const protectionCase = caseFromRow(row.case_row);
      const route = this.router.route(areas, protectionCase.homeCicId, press.loc, press.ts, now);
      const alarm = Object.assign(new Alarm(), {
        id: randomUUID(),
        deviceId,
        caseId: protectionCase.id,
        cicId: route.cicId,
        kind: press.kind,
        stage: 'received' as const,
        pressCount: 1,
        retransmissions: 0,
        firstSeq: press.seq,
        lastSeq: press.seq,
        flags,
        receivedAt: now,
        updatedAt: now,
        closedAt: null,
        outcome: null,
        homeCicId: route.homeCicId ?? null,
        deliveredAt: null,
        acceptedAt: null,
        dispatchedAt: null,
        escalationLevel: 0,
        nextEscalationAt: new Date(now.getTime() + this.config.alarms.deliveryTimeoutS * 1000),
        personalDataErasedAt: null,
      });
      const timeline = chainEntries(alarm.id, null, [
        { type: 'received', data: { seq: press.seq, ...paths, ...(press.ts ? { deviceTs: press.ts } : {}), ...(flags.length ? { flags } : {}) } },
        routedEntry(route),
      ], now);
      // The CICs' copy, built from what is written and announced in the same transaction.
      const positions = [positionOf(press)].filter((p) => p !== null);
      const view = buildAlarmView(alarm, { protectionCase, positions, positionCount: positions.length, events: timeline, firstPressTs: press.ts ?? null });
      writes.created.push(alarm);
      writes.events.push(...timeline);
      writes.announced.push({ type: 'alarm.received', cicIds: alarmAudience(alarm), data: view });
      writes.press(alarm.id, input);
      writes.device(input, true);
      outcomes.push({ kind: 'new', alarm, seq: press.seq, protectionCase, route, view });
    }

    writes.chain(heads);
    if (announcing.length > 0) {
      const entries = new Map<string, TimelineRow[]>();
      for (const e of writes.events) {
        const list = entries.get(e.alarmId);
        if (list) list.push(e);
        else entries.set(e.alarmId, [e]);
      }
      for (const { alarmId, input } of announcing) {
        writes.announced.push(joinedView(views.get(alarmId)!, existing.get(alarmId)!, input, entries.get(alarmId) ?? []));
      }
    }
    // the write is the transaction's last statement unless SMS answers are queued after it
    const sms = inputs.some((input, i) => input.sms && found.has(i));
    await writes.flush(sql, !sms);
    if (sms) await this.queueSms(sql, inputs, outcomes, found);
    return { outcomes, logged: writes.announced.length > 0, unannounced };
  }

  /** The SMS answers of the presses that came by SMS, in the presses' transaction (after their alarms are written). */
  private async queueSms(sql: Sql, inputs: readonly PressInput[], outcomes: readonly (PressOutcome | Busy)[], found: Map<number, LookupRow>): Promise<void> {
    const due = inputs.flatMap((input, i) => {
      const sms = input.sms;
      if (!sms || !found.has(i)) return []; // no such device (any more): no number to answer
      return smsAcks(outcomes[i]!).map((ack) => ({ deviceId: input.deviceId, to: sms.to, key: sms.key, ack }));
    });
    await this.acks.queueSms((text, values) => sql('press-sms', text, values), due);
  }

  /**
   * Locks the presses' devices (in id order, so concurrent batches cannot deadlock; without `wait`,
   * skipping those locked elsewhere) and reads each device's case, its open alarm and the earlier
   * press with the same seq — in one statement when nothing had to be waited for.
   *
   * A press that waits takes its lock in a statement of its own first. In READ COMMITTED a
   * statement that waited for a row lock re-reads only the locked row; the rows it joins stay as
   * they were when it started, so it would miss a press of the same (device, seq) that the lock's
   * holder (another node, which had the device's connection a moment ago) stored meanwhile, and
   * store it a second time. The read after the lock sees everything committed before it. (Without
   * `wait` a locked device is skipped, not waited for; what is left is a holder committing in the
   * microseconds between the statement's start and its lock on that row.)
   *
   * Every table is reached per press by an index on what the press names (lateral subqueries, kept
   * apart from the join by their LIMIT), so the plan cannot turn into a scan of every open alarm,
   * whatever the statistics say: after an ANALYZE taken while few alarms were open, a join on
   * `alarms` scanned the whole open-alarm index for every batch (11 ms each with 10,000 open).
   */
  private async lockAndRead(sql: Sql, inputs: readonly PressInput[], wait: boolean): Promise<Map<number, LookupRow>> {
    if (wait) {
      await sql('press-lock-devices', `SELECT 1 FROM devices WHERE id = ANY($1::text[]) ORDER BY id FOR UPDATE`, [inputs.map((i) => i.deviceId)]);
    }
    const rows = (await sql(
      wait ? 'press-lookup-wait' : 'press-lookup',
      `SELECT x.ord::int AS ord, d.last_alarm_seq, d.case_id, CASE WHEN o.id IS NULL THEN to_jsonb(c) END AS case_row,
              o.id AS open_id, r.alarm_id AS rt_alarm_id, r.device_ts AS rt_device_ts, r.received_at AS rt_received_at
         FROM unnest($1::text[], $2::bigint[]) WITH ORDINALITY AS x(device_id, seq, ord)
         JOIN devices d ON d.id = x.device_id
         LEFT JOIN cases c ON c.id = d.case_id
         LEFT JOIN LATERAL (SELECT o.id FROM alarms o WHERE o.device_id = x.device_id AND o.stage <> 'closed' LIMIT 1) o ON true
         LEFT JOIN LATERAL (
           SELECT p.alarm_id, p.device_ts, p.received_at FROM alarm_presses p
            WHERE p.device_id = x.device_id AND p.seq = x.seq
            ORDER BY p.received_at DESC LIMIT 1) r ON true
        ORDER BY d.id
        FOR UPDATE OF d ${wait ? '' : 'SKIP LOCKED'}`,
      [inputs.map((i) => i.deviceId), inputs.map((i) => i.press.seq)],
    )) as unknown as LookupRow[];
    return new Map(rows.map((r) => [r.ord - 1, r]));
  }

  /**
   * Locks the alarms the presses may join or repeat, and reads them as they are now (an operator
   * may have closed one since it was seen open) with their timelines' last entries, which the
   * entries appended to them are chained after, and the views of those whose join this transaction
   * would announce (JoinAnnouncements): one round trip, everything read under the locks.
   */
  private async lockAlarms(sql: Sql, found: Map<number, LookupRow>): Promise<LockedAlarms> {
    const ids = [...new Set([...found.values()].flatMap((r) => [r.open_id, r.rt_alarm_id]).filter((id): id is string => Boolean(id)))];
    if (ids.length === 0) return { alarms: new Map(), heads: new Map(), views: new Map() };
    // a press whose seq is stored already is most likely a copy, which is not announced
    const viewIds = this.joins.due([...found.values()].flatMap((r) => (r.open_id && !r.rt_alarm_id ? [r.open_id] : [])));
    const [rows, heads, views = []] = (await sql.together([
      {
        name: 'press-lock-alarms',
        text: `SELECT id, device_id, stage, press_count, retransmissions, last_seq, flags FROM alarms WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE`,
        values: [ids],
      },
      timelineHeads('press-timeline-heads', ids),
      ...(viewIds.length ? [alarmViewParts('press-joined-views', viewIds)] : []),
    ])) as [
      { id: string; device_id: string; stage: Alarm['stage']; press_count: number; retransmissions: number; last_seq: string | number; flags: string[] }[],
      Record<string, unknown>[],
      Record<string, unknown>[]?,
    ];
    return {
      alarms: new Map(
        rows.map((r) => [
          r.id,
          { id: r.id, deviceId: r.device_id, stage: r.stage, pressCount: r.press_count, retransmissions: r.retransmissions, lastSeq: Number(r.last_seq), flags: r.flags },
        ]),
      ),
      heads: headsByAlarm(heads),
      views: new Map(views.map((row) => viewPartsOf(row)).map((v) => [v.alarm.id, v])),
    };
  }

  /**
   * A press is a retransmission when the device already sent this seq for an alarm that is still
   * open, or within the retransmission window — unless both carry a device time and the times differ
   * (the counter was reset: that is a new press).
   */
  private isRetransmission(row: LookupRow, alarm: StoredAlarm, press: AlarmMessage, now: Date): boolean {
    const earlierTs = row.rt_device_ts == null ? null : Number(row.rt_device_ts);
    if (earlierTs != null && press.ts != null && earlierTs !== press.ts) return false;
    const windowStart = now.getTime() - this.config.alarms.retransmitWindowS * 1000;
    return alarm.stage !== 'closed' || new Date(row.rt_received_at!).getTime() >= windowStart;
  }
}

/**
 * What a stored press is answered: `received` with its alarm (and the alarm's later stage when an
 * operator has already moved it), `rejected` when it was refused, nothing for a replayed text or a
 * press left for later.
 */
function smsAcks(outcome: PressOutcome | Busy): AckMessage[] {
  switch (outcome.kind) {
    case 'new':
    case 'joined':
    case 'retransmission': {
      const { alarm, seq } = outcome;
      const received = makeAck('received', { seq, alarm: alarm.id });
      return alarm.stage === 'received' ? [received] : [received, makeAck(alarm.stage, { seq: alarm.lastSeq, alarm: alarm.id })];
    }
    case 'refused':
      return [makeAck('rejected', { seq: outcome.seq, reason: outcome.reason })];
    case 'stale':
    case 'busy':
      return [];
  }
}

/** The alarms a batch's presses may join or repeat, locked, their timelines' last entries' hashes, and the views read to announce joins. */
interface LockedAlarms {
  alarms: Map<string, StoredAlarm>;
  heads: Map<string, string | null>;
  views: Map<string, { alarm: Alarm; parts: ViewParts }>;
}

/** What a batch's transaction made of its presses, and what it announced. */
interface Written {
  outcomes: (PressOutcome | Busy)[];
  /** It wrote events to the log (new alarms, announced joins). */
  logged: boolean;
  /** Alarms joined without an announcement in the transaction: the announcer's, after the commit. */
  unannounced: string[];
}

/**
 * A joined alarm's `alarm.pressed` event: its view read under its lock, with what the press changed
 * (the count, last seq, flags and time of the `joined` update; the entries and position written
 * with it): the alarm as a read after the commit shows it.
 */
function joinedView(read: { alarm: Alarm; parts: ViewParts }, joined: StoredAlarm, { press, receivedAt }: PressInput, entries: readonly TimelineRow[]): PlatformEvent {
  const alarm = Object.assign(read.alarm, {
    pressCount: joined.pressCount,
    lastSeq: joined.lastSeq,
    flags: [...new Set(joined.flags)].sort(),
    updatedAt: receivedAt,
  });
  const parts = withAppended(read.parts, { events: entries, positions: [positionOf(press)].filter((p) => p !== null) });
  return { type: 'alarm.pressed', cicIds: alarmAudience(alarm), data: buildAlarmView(alarm, parts) };
}

/** A press left out of a batch because its device is locked by another transaction. */
interface Busy {
  kind: 'busy';
}

interface LookupRow {
  ord: number;
  last_alarm_seq: string | number | null;
  case_id: string | null;
  case_row: Record<string, unknown> | null;
  open_id: string | null;
  rt_alarm_id: string | null;
  rt_device_ts: string | number | null;
  rt_received_at: Date | string | null;
}

/** The `routed` entry: the decision, with the position it was made on as the entry's personal part. */
function routedEntry({ position, ...decision }: RouteDecision): TimelineInput {
  return { type: 'routed', data: { ...decision }, ...(position ? { personal: { position } } : {}) };
}

/** The position a press carries, as stored on its alarm (its time defaults to the press's). */
export function positionOf(press: AlarmMessage): PositionView | null {
  if (!press.loc) return null;
  const { lat, lon, acc, ts, src } = press.loc;
  return { lat, lon, acc: acc ?? null, ts: ts ?? press.ts ?? null, src: src ?? null };
}

/** Everything a batch writes, gathered while deciding and then written in one statement. */
class Writes {
  readonly created: Alarm[] = [];
  readonly joined: { id: string; seq: number; at: string; flags: string[] }[] = [];
  readonly retransmitted: { id: string }[] = [];
  readonly events: TimelineRow[] = [];
  /** Platform events (the log), written with the rest. */
  readonly announced: PlatformEvent[] = [];
  private readonly appended: { alarmId: string; type: string; data: Record<string, unknown>; at: Date }[] = [];
  private readonly presses: Record<string, unknown>[] = [];
  private readonly positions: Record<string, unknown>[] = [];
  private readonly devices: Record<string, unknown>[] = [];

  /** An entry for an alarm that already has a timeline: chained after its last entry in chain(). */
  event(alarmId: string, type: string, data: Record<string, unknown>, at: Date): void {
    this.appended.push({ alarmId, type, data, at });
  }

  press(alarmId: string, { deviceId, press, receivedAt }: PressInput): void {
    this.presses.push({ alarm_id: alarmId, device_id: deviceId, seq: press.seq, device_ts: press.ts ?? null, received_at: receivedAt.toISOString(), message: press });
    const position = positionOf(press);
    if (position) this.positions.push({ alarm_id: alarmId, ...position, acc: asReal(position.acc), received_at: receivedAt.toISOString() });
  }

  /** What a press tells about its device: it is alive, where it is, its battery and signal. */
  device({ deviceId, press, encoding, receivedAt, path }: PressInput, advancesSeq: boolean): void {
    this.devices.push({
      id: deviceId,
      encoding,
      last_seen_at: receivedAt.toISOString(),
      battery: press.bat ?? null,
      rsrp: asReal(press.cell?.rsrp),
      last_position: press.loc ?? null,
      last_alarm_seq: advancesSeq ? press.seq : null,
      sms_contact_at: path === 'sms' ? receivedAt.toISOString() : null,
    });
  }

  /** Chains the entries appended to existing alarms after their last stored entry (read under the alarms' locks). */
  chain(heads: ReadonlyMap<string, string | null>): void {
    const head = new Map(heads);
    for (const e of this.appended) {
      const [row] = chainEntries(e.alarmId, head.get(e.alarmId) ?? null, [{ type: e.type, data: e.data }], e.at);
      head.set(e.alarmId, row!.hash);
      this.events.push(row!);
    }
  }

  /** One statement for every row of the batch (foreign keys are checked at its end). */
  async flush(sql: Sql, final: boolean): Promise<void> {
    const alarms = this.created.map((a) => ({
      id: a.id, device_id: a.deviceId, case_id: a.caseId, cic_id: a.cicId, kind: a.kind, first_seq: a.firstSeq, last_seq: a.lastSeq,
      flags: a.flags, received_at: a.receivedAt.toISOString(), home_cic_id: a.homeCicId, next_escalation_at: a.nextEscalationAt!.toISOString(),
    }));
    const events = this.events.map((e) => ({
      alarm_id: e.alarmId, at: e.at.toISOString(), type: e.type, data: e.data, personal: e.personal, personal_digest: e.personalDigest, prev_hash: e.prevHash, hash: e.hash,
    }));
    await sql(
      'press-write',
      `WITH
        new_alarms AS (
          INSERT INTO alarms (id, device_id, case_id, cic_id, kind, stage, press_count, first_seq, last_seq, flags, received_at, updated_at, home_cic_id, next_escalation_at)
          SELECT x.id, x.device_id, x.case_id, x.cic_id, x.kind, 'received', 1, x.first_seq, x.last_seq, x.flags, x.received_at, x.received_at, x.home_cic_id, x.next_escalation_at
            FROM jsonb_to_recordset($1::jsonb) AS x(id uuid, device_id text, case_id uuid, cic_id text, kind text, first_seq bigint, last_seq bigint,
                                                  flags text[], received_at timestamptz, home_cic_id text, next_escalation_at timestamptz)),
        joined AS (
          UPDATE alarms a SET press_count = a.press_count + 1, last_seq = x.seq, updated_at = x.at,
                 flags = ARRAY(SELECT DISTINCT f FROM unnest(a.flags || x.flags) AS f ORDER BY f)
            FROM jsonb_to_recordset($2::jsonb) AS x(id uuid, seq bigint, at timestamptz, flags text[])
           WHERE a.id = x.id),
        repeated AS (
          UPDATE alarms a SET retransmissions = a.retransmissions + 1
            FROM jsonb_to_recordset($3::jsonb) AS x(id uuid)
           WHERE a.id = x.id),
        events AS (
          INSERT INTO alarm_events (alarm_id, at, type, data, personal, personal_digest, prev_hash, hash)
          SELECT x.alarm_id, x.at, x.type, x.data, x.personal, x.personal_digest, x.prev_hash, x.hash
            FROM ROWS FROM (jsonb_to_recordset($4::jsonb) AS (alarm_id uuid, at timestamptz, type text, data jsonb, personal jsonb, personal_digest text, prev_hash text, hash text))
                 WITH ORDINALITY AS x(alarm_id, at, type, data, personal, personal_digest, prev_hash, hash, n)
           ORDER BY x.n),
        presses AS (
          INSERT INTO alarm_presses (alarm_id, device_id, seq, device_ts, received_at, message)
          SELECT x.alarm_id, x.device_id, x.seq, x.device_ts, x.received_at, x.message
            FROM jsonb_to_recordset($5::jsonb) AS x(alarm_id uuid, device_id text, seq bigint, device_ts bigint, received_at timestamptz, message jsonb)),
        positions AS (
          INSERT INTO alarm_positions (alarm_id, lat, lon, acc, ts, src, received_at)
          SELECT x.alarm_id, x.lat, x.lon, x.acc, x.ts, x.src, x.received_at
            FROM jsonb_to_recordset($6::jsonb) AS x(alarm_id uuid, lat double precision, lon double precision, acc real, ts bigint, src text, received_at timestamptz)),
        announced AS (${insertEventsSql(8)})
       UPDATE devices d SET encoding = x.encoding, last_seen_at = x.last_seen_at,
              battery = coalesce(x.battery, d.battery), rsrp = coalesce(x.rsrp, d.rsrp),
              last_position = coalesce(x.last_position, d.last_position),
              last_alarm_seq = coalesce(x.last_alarm_seq, d.last_alarm_seq),
              sms_contact_at = coalesce(x.sms_contact_at, d.sms_contact_at)
         FROM jsonb_to_recordset($7::jsonb) AS x(id text, encoding text, last_seen_at timestamptz, battery integer, rsrp real, last_position jsonb, last_alarm_seq bigint,
                                                 sms_contact_at timestamptz)
        WHERE d.id = x.id`,
      [...[alarms, this.joined, this.retransmitted, events, this.presses, this.positions, this.devices].map((rows) => JSON.stringify(rows)), eventRows(this.announced)],
      final,
    );
  }
}
