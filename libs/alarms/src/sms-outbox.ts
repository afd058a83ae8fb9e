import { Logger } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { OutboxSender } from '@amr/persistence';
import { encodeSmsAck, type AckMessage, type DevicePath } from '@amr/protocol';
import { SMS_GATEWAY_TIMEOUT_MS, type SmsGateway } from '@amr/runtime';
import { appendEvent } from './timeline.js';

/** An ack due by SMS: to the device's registered number, sealed with its MAC key (CONTRACT §6). */
export interface SmsDue {
  readonly deviceId: string;
  readonly to: string;
  readonly key: Uint8Array;
  readonly ack: AckMessage;
}

/** Runs one statement in the caller's transaction (an EntityManager's `query`, a press batch's SQL). */
export type OutboxQuery = (text: string, values: unknown[]) => Promise<unknown>;

const INSERT = `
  INSERT INTO sms_outbox (device_id, msisdn, text, alarm_id, stage)
  SELECT x.device_id, x.msisdn, x.text, x.alarm_id, x.stage
    FROM jsonb_to_recordset($1::jsonb) AS x(device_id text, msisdn text, text text, alarm_id uuid, stage text)`;

/**
 * Writes the texts of these acks to the SMS outbox, in the caller's transaction: they are sent once
 * it commits (wake the sender then: SmsOutbox.wake), and never if it rolls back.
 */
export async function queueSms(query: OutboxQuery, due: readonly SmsDue[]): Promise<void> {
  if (due.length === 0) return;
  const rows = due.map(({ deviceId, to, key, ack }) => ({ device_id: deviceId, msisdn: to, text: encodeSmsAck(ack, key), alarm_id: ack.alarm ?? null, stage: ack.stage }));
  await query(INSERT, [JSON.stringify(rows)]);
}

/**
 * Claims due texts. A claim counts the attempt and leases the row (next_attempt_at moves past the
 * gateway's deadline), so no other sender — on this node or another, FOR UPDATE SKIP LOCKED —
 * posts it meanwhile, and a node that dies mid-post leaves it to be tried again when the lease ends.
 */
const CLAIM = `
  WITH due AS (
    SELECT id FROM sms_outbox
     WHERE next_attempt_at <= now()
     ORDER BY next_attempt_at, id
     LIMIT $1
       FOR UPDATE SKIP LOCKED
  ), claimed AS (
    UPDATE sms_outbox s
       SET attempts = s.attempts + 1, next_attempt_at = now() + $2::double precision * interval '1 millisecond'
      FROM due WHERE s.id = due.id
    RETURNING s.id, s.device_id, s.msisdn, s.text, s.alarm_id, s.stage, s.attempts, s.created_at
  )
  SELECT id, device_id, msisdn, text, alarm_id, stage, attempts FROM claimed ORDER BY created_at, id`;

/** Outcomes apply only to the attempt that was claimed (a lease that ran out may have been re-claimed). */
const DONE = `
  WITH done AS (DELETE FROM sms_outbox WHERE id = $1 AND attempts = $2 RETURNING id)
  SELECT count(*)::int AS n FROM done`;
const RETRY = `
  UPDATE sms_outbox SET last_error = $3, next_attempt_at = now() + $4::double precision * interval '1 millisecond'
   WHERE id = $1 AND attempts = $2`;

/** How much longer than the gateway's deadline a claim is leased. */
const LEASE_MARGIN_MS = 10_000;
/** Due texts are looked for this often (retries, and texts a stopped node left behind); new ones wake the sender at once. */
export const SMS_SWEEP_MS = 1_000;
/** Texts posted at the same time, at most, by one node. */
const CONCURRENCY = 50;

interface Claimed {
  id: string;
  device_id: string;
  msisdn: string;
  text: string;
  alarm_id: string | null;
  stage: string;
  attempts: number;
}

/**
 * Sends the SMS outbox through the gateway: claims due rows (woken when a transaction has queued
 * some, and every SMS_SWEEP_MS for retries and for rows a stopped node left), posts each, and
 * records the outcome — on a 2xx or when given up (the gateway's retry policy), the alarm's
 * timeline gets its `ack` entry and the row is deleted, in one transaction; otherwise the row is
 * due again after the policy's delay. The state is all in the database: a restart, or another
 * node, resumes where it stopped.
 */
export class SmsOutbox {
  private readonly logger = new Logger('SmsOutbox');
  private readonly sender: OutboxSender<Claimed>;

  constructor(
    private readonly db: DataSource,
    private readonly gateway: SmsGateway,
    sweepMs = SMS_SWEEP_MS,
  ) {
    this.sender = new OutboxSender<Claimed>({
      name: 'SMS outbox',
      concurrency: CONCURRENCY,
      sweepMs,
      claim: async (limit) => (await this.db.query(CLAIM, [limit, SMS_GATEWAY_TIMEOUT_MS + LEASE_MARGIN_MS])) as Claimed[],
      deliver: (row) => this.deliver(row),
      // The lease ends and the text is claimed again: sent twice if the gateway had it, never lost.
      failed: (row, err) => this.logger.error(`${row.device_id}: SMS ${row.stage} ack: outcome not recorded: ${String(err)}`),
    });
  }

  start(): void {
    this.sender.start();
  }

  /**
   * Stops claiming and waits for the posts in flight to be answered and recorded (each is bounded
   * by the gateway's deadline): a text the gateway took is not posted again by the next start.
   */
  stop(): Promise<void> {
    return this.sender.stop({ abort: false });
  }

  /** Looks for due texts now rather than at the next sweep (a transaction queued some). */
  wake(): void {
    this.sender.wake();
  }

  private async deliver(row: Claimed): Promise<void> {
    const attempts = Number(row.attempts);
    const outcome = await this.gateway.post(row.msisdn, row.text);
    const delay = outcome.sent || !outcome.retry ? undefined : this.gateway.retryDelayMs(attempts);
    if (!outcome.sent && delay !== undefined) {
      await this.db.query(RETRY, [row.id, attempts, outcome.error, delay]);
      this.gateway.count('retried');
      return;
    }
    const entry = { ack: row.stage, path: 'sms' satisfies DevicePath, sent: outcome.sent, attempts, ...(outcome.sent ? {} : { error: outcome.error }) };
    const recorded = await this.db.transaction(async (tx) => {
      const [done] = (await tx.query(DONE, [row.id, attempts])) as { n: number }[];
      if (!done?.n) return false; // its lease ran out and another attempt has it
      if (row.alarm_id) await appendEvent(tx, row.alarm_id, 'ack', entry);
      return true;
    });
    if (!recorded) return;
    this.gateway.count(outcome.sent ? 'sent' : 'failed');
    if (!outcome.sent) this.logger.error(`${row.device_id}: SMS ${row.stage} ack to ${row.msisdn} given up after ${attempts} attempt(s): ${outcome.error}`);
  }
}
