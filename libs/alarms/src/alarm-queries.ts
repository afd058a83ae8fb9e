import { Inject, Injectable, NotFoundException } from '@nestjs/common';
import { Brackets, type DataSource, type EntityManager } from 'typeorm';
import { Alarm, AlarmEvent } from '@amr/persistence';
import { DATA_SOURCE } from '@amr/runtime';
import { alarmAudience, alarmFromRow, loadAlarmView, loadAlarmViews, type AlarmView } from './alarm-view.js';
import { verifyChain, type ChainVerification } from './timeline.js';
import { AuditTrail, type AlarmAudit } from './audit/audit-trail.js';
import type { Scope } from './scope.js';

export interface EvidenceExport {
  alarm: AlarmView;
  timeline: {
    id: number;
    at: string;
    type: string;
    data: Record<string, unknown>;
    /** The entry's personal part with its salt (null: none, or erased), and the digest the hash covers. */
    personal: { salt: string; data: Record<string, unknown> } | null;
    personalDigest: string | null;
    erasedAt: string | null;
    prevHash: string | null;
    hash: string | null;
  }[];
  verification: ChainVerification;
  /** The audit trail's entries naming this alarm: who read it, who acted on it, and how that ended (for an integration, its own CIC's). */
  audit: AlarmAudit;
  exportedAt: string;
}

/**
 * An alarm the scope may see (locked for update with `lock`), else 404: an integration is told
 * nothing of alarms it may not see, not even that they exist.
 */
export async function findVisibleAlarm(db: EntityManager, scope: Scope, id: string, lock = false): Promise<Alarm> {
  // Plain SQL (every operator call reads it): the row as JSON, mapped as the views map it.
  const [row] = (await db.query(`SELECT to_jsonb(a) AS alarm_row FROM alarms a WHERE a.id = $1${lock ? ' FOR UPDATE' : ''}`, [id])) as { alarm_row: Record<string, unknown> }[];
  const alarm = row ? alarmFromRow(row.alarm_row) : undefined;
  if (!alarm || (scope.kind === 'integration' && !alarmAudience(alarm).includes(scope.cicId))) {
    throw new NotFoundException(`No alarm ${id} is visible to you`);
  }
  return alarm;
}

/** Reading alarms within a scope: the list, one alarm, its evidence, a CIC's undelivered alarms. */
@Injectable()
export class AlarmQueries {
  constructor(
    @Inject(DATA_SOURCE) private readonly db: DataSource,
    private readonly audit: AuditTrail,
  ) {}

  async list(scope: Scope, filter: { state?: 'open' | 'closed'; limit?: number }): Promise<AlarmView[]> {
    const query = this.db.getRepository(Alarm).createQueryBuilder('a').orderBy('a.receivedAt', 'DESC').take(filter.limit ?? 100);
    if (scope.kind === 'integration') {
      // Its own CIC's alarms, and the informational copies of its victims' alarms elsewhere.
      query.andWhere(new Brackets((w) => w.where('a.cicId = :cic', { cic: scope.cicId }).orWhere('a.homeCicId = :cic', { cic: scope.cicId })));
    }
    if (filter.state === 'open') query.andWhere(`a.stage <> 'closed'`);
    if (filter.state === 'closed') query.andWhere(`a.stage = 'closed'`);
    const alarms = await query.getMany();
    return loadAlarmViews(this.db.manager, alarms.map((a) => a.id));
  }

  async get(scope: Scope, id: string): Promise<AlarmView> {
    const alarm = await findVisibleAlarm(this.db.manager, scope, id);
    return loadAlarmView(this.db.manager, alarm);
  }

  /** The timeline with its hash chain, whether the chain still verifies, and the audit entries naming the alarm. */
  async evidence(scope: Scope, id: string): Promise<EvidenceExport> {
    const alarm = await findVisibleAlarm(this.db.manager, scope, id);
    const [events, audit] = await Promise.all([
      this.db.getRepository(AlarmEvent).find({ where: { alarmId: id }, order: { id: 'ASC' } }),
      // An integration sees its own CIC's calls; who else read the alarm is the administrator's to know.
      this.audit.forTarget(id, scope.kind === 'integration' ? scope.cicId : undefined),
    ]);
    return {
      alarm: await loadAlarmView(this.db.manager, alarm),
      timeline: events.map((e) => ({
        id: e.id,
        at: e.at.toISOString(),
        type: e.type,
        data: e.data,
        personal: e.personal ?? null,
        personalDigest: e.personalDigest ?? null,
        erasedAt: e.erasedAt?.toISOString() ?? null,
        prevHash: e.prevHash,
        hash: e.hash,
      })),
      verification: verifyChain(events),
      audit,
      exportedAt: new Date().toISOString(),
    };
  }

  /** Open alarms handled by a CIC that no integration of it has received yet. */
  async undelivered(cicId: string): Promise<AlarmView[]> {
    const alarms = await this.db
      .getRepository(Alarm)
      .createQueryBuilder('a')
      .where('a.cicId = :cicId', { cicId })
      .andWhere(`a.stage <> 'closed'`)
      .andWhere('a.deliveredAt IS NULL')
      .orderBy('a.receivedAt', 'ASC')
      .getMany();
    return loadAlarmViews(this.db.manager, alarms.map((a) => a.id));
  }
}
