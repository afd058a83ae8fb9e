import { Inject, Injectable, Logger } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { GroupCommit, asReal, inTransaction, type Alarm, type Sql } from '@amr/persistence';
import type { Encoding, Position, StatusMessage } from '@amr/protocol';
import { DATA_SOURCE } from '@amr/runtime';

/** What a device's telemetry message leaves in the database. */
export type TelemetryInput =
  /** A heartbeat (CONTRACT §3 status): the device's health is updated and the report kept. */
  | { readonly kind: 'status'; readonly deviceId: string; readonly status: StatusMessage; readonly encoding: Encoding; readonly receivedAt: Date }
  /** A position (CONTRACT §3 loc): the device's last position, and its open alarm's track. */
  | { readonly kind: 'position'; readonly deviceId: string; readonly position: Position; readonly encoding: Encoding; readonly receivedAt: Date }
  /** A message that was rejected: the device spoke all the same (supervision). */
  | { readonly kind: 'seen'; readonly deviceId: string; readonly receivedAt: Date };

/** The open alarm a position was added to, with what its audience is made of. */
export type PositionAlarm = Pick<Alarm, 'id' | 'cicId' | 'homeCicId'>;

/** Messages stored in one transaction at most. */
const MAX_BATCH = 500;

/**
 * How long a message waits for others to share its transaction, ms. Heartbeats arrive one at a
 * time (10,000 devices at a 60 s period: 167 a second, 119 transactions of two round trips each
 * without the wait); with it, at most 40 transactions a second. A position waits as long before
 * it reaches its alarm's track: nothing a CIC would notice.
 */
const LINGER_MS = 25;

interface Pending {
  readonly input: TelemetryInput;
  readonly resolve: (alarm: PositionAlarm | null) => void;
  readonly reject: (err: unknown) => void;
}

/** A message left out of a batch because its device row is locked by another transaction. */
const BUSY = Symbol('busy');

/**
 * Stores heartbeats and positions with group commit: a message waits LINGER_MS for others, and
 * the messages that arrive meanwhile, or while a transaction is in flight, are written together
 * in the same few statements whatever their number (lock the devices, one write, commit), in
 * plain SQL.
 *
 * A batch never holds two messages of one device (the ingress runs a device's messages one at a
 * time). It locks its devices in id order and skips those locked elsewhere (a press batch, another
 * node): a batch never waits for a device while it holds the others'. A skipped message is then
 * written alone, in its own transaction, where it waits for its device and holds nothing else. If
 * a batch fails, its messages are written one by one, so one bad message cannot sink the others.
 */
@Injectable()
export class TelemetryStore {
  private readonly logger = new Logger('TelemetryStore');
  private readonly batches = new GroupCommit<Pending>((batch) => this.runBatch(batch), { maxBatch: MAX_BATCH, lingerMs: LINGER_MS });

  constructor(@Inject(DATA_SOURCE) private readonly db: DataSource) {}

  /** Resolves after the commit with the open alarm a position went to (null: none, or not a position). */
  store(input: TelemetryInput): Promise<PositionAlarm | null> {
    return new Promise((resolve, reject) => this.batches.add({ input, resolve, reject }));
  }

  private async runBatch(batch: Pending[]): Promise<void> {
    try {
      const results = await inTransaction(this.db, (sql) => this.write(sql, batch.map((p) => p.input), false));
      batch.forEach((p, i) => {
        const result = results[i]!;
        if (result === BUSY) void this.storeAlone(p);
        else p.resolve(result);
      });
    } catch (err) {
      if (batch.length === 1) return batch[0]!.reject(err);
      this.logger.warn(`a batch of ${batch.length} telemetry messages failed (${String(err)}); storing them one by one`);
      await Promise.all(batch.map((p) => this.storeAlone(p)));
    }
  }

  /** One message in its own transaction, waiting for its device's lock if need be. */
  private async storeAlone(p: Pending): Promise<void> {
    try {
      const [result] = await inTransaction(this.db, (sql) => this.write(sql, [p.input], true));
      p.resolve(result === BUSY ? null : (result ?? null));
    } catch (err) {
      p.reject(err);
    }
  }

  /**
   * Locks the devices, then writes what their messages carry; results in input order. Without
   * `wait`, a message whose device is locked elsewhere is left out (BUSY). With it (one message),
   * an unknown device writes nothing.
   */
  private async write(sql: Sql, inputs: readonly TelemetryInput[], wait: boolean): Promise<(PositionAlarm | null | typeof BUSY)[]> {
    const locked = await this.lock(sql, inputs.map((i) => i.deviceId), wait);
    const ready = inputs.filter((i) => locked.has(i.deviceId));
    const alarms = ready.length > 0 ? await this.flush(sql, ready) : new Map<string, PositionAlarm>();
    return inputs.map((i) => (!locked.has(i.deviceId) ? (wait ? null : BUSY) : (alarms.get(i.deviceId) ?? null)));
  }

  /**
   * Locks the devices' rows in id order (batches on several nodes cannot deadlock) with the lock an
   * UPDATE takes; without `wait`, skipping those locked elsewhere. A statement of its own, so that
   * the write that follows sees whatever the holders of those locks committed (an alarm just opened).
   */
  private async lock(sql: Sql, deviceIds: string[], wait: boolean): Promise<Set<string>> {
    const rows = await sql(
      wait ? 'telemetry-lock-wait' : 'telemetry-lock',
      `SELECT d.id FROM devices d WHERE d.id = ANY($1::text[]) ORDER BY d.id FOR NO KEY UPDATE ${wait ? '' : 'SKIP LOCKED'}`,
      [deviceIds],
    );
    return new Set(rows.map((r) => String(r.id)));
  }

  /**
   * One statement for the whole batch: the devices' state (only what each message carried), the
   * status reports, and each position added to its device's open alarm; returns the alarm each
   * position went to.
   */
  private async flush(sql: Sql, inputs: readonly TelemetryInput[]): Promise<Map<string, PositionAlarm>> {
    const devices: Record<string, unknown>[] = [];
    const reports: Record<string, unknown>[] = [];
    const positions: Record<string, unknown>[] = [];
    for (const input of inputs) {
      const { deviceId: id, receivedAt } = input;
      const at = receivedAt.toISOString();
      // Absent keys are NULL in jsonb_to_recordset, and NULL keeps the device's current value.
      switch (input.kind) {
        case 'status': {
          const { seq, ts, bat, rsrp, fw, loc } = input.status;
          devices.push({ id, last_seen_at: at, encoding: input.encoding, battery: bat, rsrp: asReal(rsrp), fw, last_position: loc });
          reports.push({ device_id: id, received_at: at, seq, ts, battery: bat, rsrp: asReal(rsrp), fw, position: loc });
          break;
        }
        case 'position': {
          const { lat, lon, acc, ts, src } = input.position;
          devices.push({ id, last_seen_at: at, encoding: input.encoding, last_position: input.position });
          positions.push({ device_id: id, lat, lon, acc: asReal(acc), ts, src, received_at: at });
          break;
        }
        case 'seen':
          devices.push({ id, last_seen_at: at });
          break;
      }
    }
    const rows = (await sql(
      'telemetry-write',
      `WITH
        device_state AS (
          UPDATE devices d SET last_seen_at = greatest(d.last_seen_at, x.last_seen_at),
                 encoding = coalesce(x.encoding, d.encoding),
                 battery = coalesce(x.battery, d.battery), rsrp = coalesce(x.rsrp, d.rsrp), fw = coalesce(x.fw, d.fw),
                 last_position = coalesce(x.last_position, d.last_position)
            FROM jsonb_to_recordset($1::jsonb) AS x(id text, last_seen_at timestamptz, encoding text, battery integer, rsrp real, fw text, last_position jsonb)
           WHERE d.id = x.id),
        reports AS (
          INSERT INTO device_status_reports (device_id, received_at, seq, ts, battery, rsrp, fw, position)
          SELECT x.device_id, x.received_at, x.seq, x.ts, x.battery, x.rsrp, x.fw, x.position
            FROM jsonb_to_recordset($2::jsonb) AS x(device_id text, received_at timestamptz, seq bigint, ts bigint, battery integer, rsrp real, fw text, position jsonb)),
        targets AS (
          SELECT a.id AS alarm_id, a.device_id, a.cic_id, a.home_cic_id, x.lat, x.lon, x.acc, x.ts, x.src, x.received_at
            FROM jsonb_to_recordset($3::jsonb) AS x(device_id text, lat double precision, lon double precision, acc real, ts bigint, src text, received_at timestamptz)
            -- per position its device's open alarm by index (a join may scan every open alarm)
            JOIN LATERAL (SELECT a.id, a.device_id, a.cic_id, a.home_cic_id FROM alarms a WHERE a.device_id = x.device_id AND a.stage <> 'closed' LIMIT 1) a ON true),
        positions AS (
          INSERT INTO alarm_positions (alarm_id, lat, lon, acc, ts, src, received_at)
          SELECT t.alarm_id, t.lat, t.lon, t.acc, t.ts, t.src, t.received_at FROM targets t
          RETURNING alarm_id)
       SELECT t.device_id, t.alarm_id, t.cic_id, t.home_cic_id FROM targets t WHERE t.alarm_id IN (SELECT p.alarm_id FROM positions p)`,
      [devices, reports, positions].map((r) => JSON.stringify(r)),
      true,
    )) as { device_id: string; alarm_id: string; cic_id: string; home_cic_id: string | null }[];
    return new Map(rows.map((r) => [r.device_id, { id: r.alarm_id, cicId: r.cic_id, homeCicId: r.home_cic_id }]));
  }
}
