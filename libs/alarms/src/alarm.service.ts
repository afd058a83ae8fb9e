import { ConflictException, ForbiddenException, Inject, Injectable, Logger, NotFoundException, ServiceUnavailableException } from '@nestjs/common';
import { Brackets, type DataSource, type EntityManager } from 'typeorm';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity.js';
import { Alarm, AlarmEvent, Device, GroupCommit } from '@amr/persistence';
import { makeAck, type AckStage, type Encoding } from '@amr/protocol';
import { DATA_SOURCE, DeviceLink, PlatformEvents, type PlatformEventType } from '@amr/runtime';
import { alarmAudience, alarmFromRow, loadAlarmView, loadAlarmViews, type AlarmStage, type AlarmView } from './alarm-view.js';
import { appendEvent, verifyChain, type ChainVerification } from './timeline.js';
import { DeliveryRecorder } from './delivery-recorder.js';
import { AuditTrail, type AlarmAudit } from './audit/audit-trail.js';
import { DeviceAcks, ackPaths, type AckRoute } from './device-acks.js';
import type { CaseReadVia } from './case-reads.js';
import { actorOf, type Scope } from './scope.js';
import { TRANSITIONS } from './stage-transitions.js';

/** How an alarm reached its CIC: a confirmation, a webhook's 2xx, or an operator acting on it. */
export type DeliveryChannel = 'confirmation' | 'webhook' | 'operator';

export interface DispatchDetails {
  unit?: string;
  etaMin?: number;
}

interface Announcement {
  readonly id: string;
  readonly type: PlatformEventType;
  readonly resolve: (view: AlarmView) => void;
  readonly reject: (err: unknown) => void;
}

/** An alarm to announce was not found (deleted in the meantime). */
class AlarmGone extends Error {
  constructor(id: string) {
    super(`alarm ${id} is gone`);
  }
}

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
 * The alarm as the CICs see and act on it: listing and reading within a scope, the operator's
 * stage changes, delivery. Each change is appended to the timeline in the same transaction as the
 * stage, and only after the commit is the device told (the vibration tells the truth) and the CICs
 * notified.
 */
@Injectable()
export class AlarmService {
  private readonly logger = new Logger('Alarms');

  constructor(
    @Inject(DATA_SOURCE) private readonly db: DataSource,
    private readonly link: DeviceLink,
    private readonly events: PlatformEvents,
    private readonly recorder: DeliveryRecorder,
    private readonly acks: DeviceAcks,
    private readonly audit: AuditTrail,
  ) {}

  private readonly announcements = new GroupCommit<Announcement>((batch) => this.announceBatch(batch), { maxBatch: 200 });

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
    const alarm = await this.findVisible(this.db.manager, scope, id);
    return loadAlarmView(this.db.manager, alarm);
  }

  /** The timeline with its hash chain, whether the chain still verifies, and the audit entries naming the alarm. */
  async evidence(scope: Scope, id: string): Promise<EvidenceExport> {
    const alarm = await this.findVisible(this.db.manager, scope, id);
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

  accept(scope: Scope, id: string): Promise<AlarmView> {
    return this.advance(scope, id, 'accepted', {});
  }

  dispatch(scope: Scope, id: string, details: DispatchDetails): Promise<AlarmView> {
    return this.advance(scope, id, 'dispatched', { ...details });
  }

  /** The outcome is an operator's free text: the timeline keeps it as the entry's personal part. */
  close(scope: Scope, id: string, outcome: string): Promise<AlarmView> {
    return this.advance(scope, id, 'closed', {}, { outcome });
  }

  /**
   * An integration of the alarm's responsible CIC has received it: it confirmed it, or its webhook
   * answered 2xx (CONTRACT §4: an SSE write alone is not delivery). The first delivery is recorded
   * and moves the escalation deadline to the accept timeout; later ones are no-ops. A self-test is
   * closed once delivered (it is never dispatched). Returns whether this call recorded the delivery.
   */
  async markDelivered(alarmId: string, via: { channel: Exclude<DeliveryChannel, 'operator'>; integrationId: string }): Promise<boolean> {
    // Written with the other deliveries and case reads of the moment (group commit).
    const delivered = await this.recorder.delivery({ alarmId, ...via });
    if (!delivered) return false;
    if (delivered.kind === 'test') {
      await this.close({ kind: 'platform' }, delivered.id, 'self-test delivered');
    }
    return true;
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

  /**
   * `POST /alarms/{id}/delivered`: an integration of the responsible CIC says it has the alarm.
   * Idempotent; answers with the alarm as it is now.
   */
  async confirmDelivered(scope: Scope, id: string): Promise<AlarmView> {
    if (scope.kind !== 'integration') {
      throw new ForbiddenException('Delivery is confirmed by an integration of the CIC, with its own token: the admin token cannot say that a CIC has an alarm');
    }
    const alarm = await this.findVisible(this.db.manager, scope, id);
    if (alarm.cicId !== scope.cicId) {
      throw new ForbiddenException(`Alarm ${id} is handled by ${alarm.cicId}; your CIC (${scope.cicId}) has an informational copy, whose delivery is not tracked`);
    }
    if (!alarm.deliveredAt && alarm.stage !== 'closed' && !(await this.markDelivered(id, { channel: 'confirmation', integrationId: scope.integrationId }))) {
      // Not recorded by this call: delivered or closed meanwhile, or the write failed.
      const now = await this.db.getRepository(Alarm).findOne({ where: { id }, select: { id: true, deliveredAt: true, stage: true } });
      if (now && !now.deliveredAt && now.stage !== 'closed') {
        throw new ServiceUnavailableException(`The delivery of alarm ${id} could not be recorded just now: confirm it again`);
      }
    }
    return loadAlarmView(this.db.manager, alarm);
  }

  /**
   * An alarm's case data was sent to an integration (an SSE write, a webhook's 2xx): a case read.
   * Joins the recorder's next batch: one transaction for every send of the moment.
   */
  async caseSent(alarm: { id: string | null; caseId: string | null }, integrationId: string, via: Exclude<CaseReadVia, 'api'>): Promise<void> {
    await this.recorder.caseRead({ caseId: alarm.caseId, integrationId, alarmId: alarm.id, via });
  }

  /** Sends the device the ack of the alarm's current stage on the given route; a failure is logged, the stage stands. */
  async notifyDevice(alarm: Pick<Alarm, 'id' | 'deviceId' | 'lastSeq'>, stage: AckStage, route: AckRoute): Promise<void> {
    const ack = makeAck(stage, { seq: alarm.lastSeq, alarm: alarm.id });
    try {
      await this.acks.send(alarm.deviceId, ack, route);
    } catch (err) {
      this.logger.error(`${alarm.deviceId}: ${stage} ack for alarm ${alarm.id} not sent: ${String(err)}`);
    }
  }

  /**
   * Publishes an alarm change, with the alarm as stored now, to every CIC that may see it (the
   * responsible one, the home one). The changes of the moment are read together, in one statement,
   * and written to the event log together. For changes that are not themselves a transaction of
   * this service (a press joining an alarm); a stage change writes its event with the change.
   */
  announce(alarm: Pick<Alarm, 'id'>, type: PlatformEventType): Promise<AlarmView> {
    return new Promise((resolve, reject) => this.announcements.add({ id: alarm.id, type, resolve, reject }));
  }

  /** Announces an alarm as it is stored now (nothing, if it is gone). */
  async announceById(id: string, type: PlatformEventType): Promise<void> {
    await this.announce({ id }, type).catch((err: unknown) => {
      if (!(err instanceof AlarmGone)) throw err;
    });
  }

  private async announceBatch(batch: Announcement[]): Promise<void> {
    try {
      const views = new Map((await loadAlarmViews(this.db.manager, batch.map((a) => a.id))).map((v) => [v.id, v]));
      await Promise.all(
        batch.map(async ({ id, type, resolve, reject }) => {
          const view = views.get(id);
          if (!view) return reject(new AlarmGone(id));
          await this.events.publish({ type, cicIds: alarmAudience(view), data: view });
          resolve(view);
        }),
      );
    } catch (err) {
      for (const a of batch) a.reject(err);
    }
  }

  /**
   * An operator's stage change: the stage, its timeline entry and its event in one transaction;
   * then the device is told. An integration of the responsible CIC acting on an alarm has it: if
   * it was not yet delivered, that is its delivery.
   */
  private async advance(scope: Scope, id: string, to: keyof typeof TRANSITIONS, data: Record<string, unknown>, personal?: { outcome: string }): Promise<AlarmView> {
    const { alarm, view, route } = await this.db.transaction(async (tx) => {
      const alarm = await this.findVisible(tx, scope, id, true);
      if (scope.kind === 'integration' && alarm.cicId !== scope.cicId) {
        throw new ForbiddenException(`Alarm ${id} is handled by ${alarm.cicId}; your CIC (${scope.cicId}) has an informational copy and cannot act on it`);
      }
      if (!TRANSITIONS[to].includes(alarm.stage as AlarmStage)) {
        throw new ConflictException(`Alarm ${id} is ${alarm.stage}; it cannot become ${to} (allowed from: ${TRANSITIONS[to].join(', ')})`);
      }
      if (to === 'dispatched' && alarm.kind === 'test') {
        throw new ConflictException(`Alarm ${id} is a self-test: test alarms are never dispatched`);
      }
      const now = new Date();
      const changes: Partial<Alarm> = { stage: to, updatedAt: now, nextEscalationAt: null };
      if (to === 'accepted') changes.acceptedAt = now;
      if (to === 'dispatched') Object.assign(changes, { dispatchedAt: now, acceptedAt: alarm.acceptedAt ?? now });
      if (to === 'closed') Object.assign(changes, { closedAt: now, outcome: personal?.outcome ?? null });
      const delivering = scope.kind === 'integration' && !alarm.deliveredAt;
      if (delivering) changes.deliveredAt = now;
      await tx.update(Alarm, { id: alarm.id }, changes as QueryDeepPartialEntity<Alarm>);
      if (delivering) await appendEvent(tx, alarm.id, 'delivered', { via: 'operator', integrationId: scope.integrationId, cicId: alarm.cicId }, now);
      // The device hears of it on the path of the moment (DeviceAcks), which the entry records.
      const route = await this.acks.routeOf(alarm.deviceId, tx);
      await appendEvent(tx, alarm.id, to, { ...data, by: actorOf(scope), acks: ackPaths(route) }, now, personal);
      Object.assign(alarm, changes);
      const view = await loadAlarmView(tx, alarm);
      await PlatformEvents.append((text, values) => tx.query(text, values), [{ type: `alarm.${to}`, cicIds: alarmAudience(view), data: view }]);
      return { alarm, view, route };
    });
    this.events.committed();
    await this.notifyDevice(alarm, to, route);
    if (to === 'closed') await this.stopLocationReports(alarm.deviceId, route.encoding);
    return view;
  }

  /** CONTRACT §3 cmd: the in-alarm location period ends with the alarm (locEvery 0 = off). */
  private async stopLocationReports(deviceId: string, encoding: Encoding): Promise<void> {
    await this.link.sendCommand(deviceId, encoding, { cmd: 'config', locEvery: 0 }).catch((err: unknown) => {
      this.logger.error(`${deviceId}: location stop not sent: ${String(err)}`);
    });
  }

  /** The encoding of the device's most recent message: what it is answered in (CONTRACT §3). */
  async encodingOf(deviceId: string): Promise<Encoding> {
    const device = await this.db.getRepository(Device).findOne({ where: { id: deviceId }, select: { id: true, encoding: true } });
    return (device?.encoding ?? 'cbor') as Encoding;
  }

  private async findVisible(db: EntityManager, scope: Scope, id: string, lock = false): Promise<Alarm> {
    // Plain SQL (every operator call reads it): the row as JSON, mapped as the views map it.
    const [row] = (await db.query(`SELECT to_jsonb(a) AS alarm_row FROM alarms a WHERE a.id = $1${lock ? ' FOR UPDATE' : ''}`, [id])) as { alarm_row: Record<string, unknown> }[];
    const alarm = row ? alarmFromRow(row.alarm_row) : undefined;
    // An integration is told nothing of alarms it may not see, not even that they exist.
    if (!alarm || (scope.kind === 'integration' && !alarmAudience(alarm).includes(scope.cicId))) {
      throw new NotFoundException(`No alarm ${id} is visible to you`);
    }
    return alarm;
  }
}
