import { returned } from '@amr/persistence';
import { ConflictException, Inject, Injectable, NotFoundException } from '@nestjs/common';
import type { DataSource, EntityManager } from 'typeorm';
import { DATA_SOURCE } from '@amr/runtime';
import { caseFromRow, caseView, type CaseView } from './alarm-view.js';
import { appendEvent } from './timeline.js';

/** Why personal data was erased: its retention period ended, or its case was erased on request. */
export type ErasureReason = 'retention' | 'case-erased';

/** What an erasure removed, as its timeline entry records it. */
export interface AlarmErasure {
  alarmId: string;
  positions: number;
  presses: number;
  entries: number;
}

export interface CaseErasure {
  case: CaseView;
  /** Alarms of the case whose personal data was erased now (earlier erasures not counted). */
  alarms: number;
  /** The buttons that were assigned to it: unassigned, back in stock. */
  devicesUnassigned: string[];
}

/**
 * Erasure of personal data (docs/security.md "Personal data"), the one place that knows what is
 * personal and what stays. An alarm keeps its skeleton — device, case id, CICs, kind, stages and
 * their times, counts, seqs, flags — and its timeline, whose hash chain still verifies: positions
 * are deleted, press payloads cut down to `seq`, `ts` and `kind`, the operator's outcome removed,
 * the timeline entries' personal parts (routed-on position, outcome) removed with their digests
 * kept, and an `erased` entry appended saying what went and why. A case keeps its id, home CIC,
 * risk level, settings and dates; its victim, perpetrator, reference, notes and orders go.
 *
 * The caller holds the rows' locks (FOR UPDATE), so any number of nodes may erase at once and each
 * alarm is erased once.
 */
@Injectable()
export class PersonalDataErasure {
  constructor(@Inject(DATA_SOURCE) private readonly db: DataSource) {}

  /** Erases the personal data of closed alarms locked by the caller's transaction. */
  async eraseAlarms(tx: EntityManager, alarmIds: readonly string[], reason: ErasureReason, by: string, at = new Date()): Promise<AlarmErasure[]> {
    if (alarmIds.length === 0) return [];
    const ids = [...alarmIds];
    const positions = countBy(await tx.query(`DELETE FROM alarm_positions WHERE alarm_id = ANY($1::uuid[]) RETURNING alarm_id`, [ids]));
    const presses = countBy(
      await tx.query(
        `UPDATE alarm_presses SET message = jsonb_strip_nulls(jsonb_build_object('seq', message->'seq', 'ts', message->'ts', 'kind', message->'kind'))
          WHERE alarm_id = ANY($1::uuid[]) AND message - 'seq' - 'ts' - 'kind' <> '{}'::jsonb
          RETURNING alarm_id`,
        [ids],
      ),
    );
    // Entries with a personal part lose it and keep its digest. Entries written before personal
    // parts were kept apart lose the personal keys of their content: their link still verifies.
    const entries = countBy(
      await tx.query(
        `UPDATE alarm_events SET personal = NULL, erased_at = $2,
                data = CASE WHEN personal_digest IS NULL THEN data - 'position' - 'outcome' ELSE data END
          WHERE alarm_id = ANY($1::uuid[]) AND erased_at IS NULL
            AND (personal IS NOT NULL OR (personal_digest IS NULL AND (data ? 'position' OR data ? 'outcome')))
          RETURNING alarm_id`,
        [ids, at],
      ),
    );
    await tx.query(`UPDATE alarms SET outcome = NULL, personal_data_erased_at = $2 WHERE id = ANY($1::uuid[])`, [ids, at]);
    const erasures = ids.map((alarmId) => ({ alarmId, positions: positions.get(alarmId) ?? 0, presses: presses.get(alarmId) ?? 0, entries: entries.get(alarmId) ?? 0 }));
    for (const { alarmId, ...counts } of erasures) await appendEvent(tx, alarmId, 'erased', { reason, by, ...counts }, at);
    return erasures;
  }

  /**
   * A case erased on request (right to erasure) or at the end of its retention period: its personal
   * data, that of all its alarms, the positions its buttons reported; the buttons go back to stock.
   * Refused while one of its alarms is open. Erasing an erased case again changes nothing.
   */
  async eraseCase(caseId: string, reason: ErasureReason, by: string, tx?: EntityManager): Promise<CaseErasure> {
    if (!tx) return this.db.transaction((own) => this.eraseCase(caseId, reason, by, own));
    const at = new Date();
    const [row] = (await tx.query(`SELECT to_jsonb(c) AS case_row FROM cases c WHERE c.id = $1 FOR UPDATE`, [caseId])) as { case_row: Record<string, unknown> }[];
    if (!row) throw new NotFoundException(`No case ${caseId}`);
    const open = (await tx.query(`SELECT id FROM alarms WHERE case_id = $1 AND stage <> 'closed' LIMIT 1`, [caseId])) as { id: string }[];
    if (open.length) throw new ConflictException(`Case ${caseId} has an open alarm (${open[0]!.id}): close it before erasing the case`);

    const alarms = ((await tx.query(
      `SELECT id FROM alarms WHERE case_id = $1 AND personal_data_erased_at IS NULL ORDER BY id FOR UPDATE`,
      [caseId],
    )) as { id: string }[]).map((a) => a.id);
    await this.eraseAlarms(tx, alarms, reason, by, at);
    await this.eraseCopies(tx, alarms);

    const devices = returned<{ id: string }>(await tx.query(
      `UPDATE devices SET case_id = NULL, assigned_at = NULL, grant_expires_at = NULL, last_position = NULL
        WHERE case_id = $1 RETURNING id`,
      [caseId],
    )).map((d) => d.id);
    if (devices.length) {
      await tx.query(`UPDATE device_status_reports SET position = NULL WHERE device_id = ANY($1::text[]) AND position IS NOT NULL`, [devices]);
      await tx.query(
        `INSERT INTO device_events (device_id, actor, type, details, at)
         SELECT d, $2, 'unassigned', jsonb_build_object('caseId', $3::text, 'reason', $4::text), $5 FROM unnest($1::text[]) AS d`,
        [devices, by, caseId, reason, at],
      );
    }
    const [erased] = returned<{ case_row: Record<string, unknown> }>(await tx.query(
      `UPDATE cases SET reference = NULL, responder_notes = NULL, perpetrator = NULL, protection_orders = NULL, victim = NULL,
              closed_at = coalesce(closed_at, $2), erased_at = coalesce(erased_at, $2)
        WHERE id = $1 RETURNING to_jsonb(cases) AS case_row`,
      [caseId, at],
    ));
    return { case: caseView(caseFromRow(erased!.case_row)), alarms: alarms.length, devicesUnassigned: devices };
  }

  /**
   * The copies of the alarms' views outside their tables: the event log (kept a day) and the
   * webhook outbox. A delivery still pending is given up rather than sent without its data.
   */
  private async eraseCopies(tx: EntityManager, alarmIds: readonly string[]): Promise<void> {
    if (alarmIds.length === 0) return;
    await tx.query(`DELETE FROM platform_events WHERE type LIKE 'alarm.%' AND coalesce(data->>'id', data->>'alarmId') = ANY($1::text[])`, [alarmIds]);
    await tx.query(
      `UPDATE webhook_deliveries SET payload = ${ERASED_PAYLOAD},
              state = CASE WHEN state = 'pending' THEN 'failed' ELSE state END,
              last_error = CASE WHEN state = 'pending' THEN 'personal data erased before delivery' ELSE last_error END
        WHERE event_type LIKE 'alarm.%' AND coalesce(payload->>'id', payload->>'alarmId') = ANY($1::text[])`,
      [alarmIds],
    );
  }
}

/** What an erased webhook copy holds instead of the alarm. */
export const ERASED_PAYLOAD = `'{"personalDataErased": true}'::jsonb`;

function countBy(result: unknown): Map<string, number> {
  const counts = new Map<string, number>();
  for (const { alarm_id } of returned<{ alarm_id: string }>(result)) counts.set(alarm_id, (counts.get(alarm_id) ?? 0) + 1);
  return counts;
}
