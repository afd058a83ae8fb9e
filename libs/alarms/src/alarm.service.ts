import { ConflictException, Inject, Injectable, Logger, NotFoundException } from '@nestjs/common';
import { Not, type DataSource, type EntityManager, type FindOptionsWhere } from 'typeorm';
import { Alarm, AlarmEvent, Device } from '@amr/persistence';
import { makeAck, type AckStage, type Encoding } from '@amr/protocol';
import { DATA_SOURCE, DeviceLink, PlatformEvents, type PlatformEventType } from '@amr/runtime';
import { loadAlarmView, type AlarmStage, type AlarmView } from './alarm-view.js';
import { actorOf, type Scope } from './scope.js';

/** Stage changes an operator may make, and from which stages (CONTRACT §3 ack). */
const TRANSITIONS: Record<Exclude<AlarmStage, 'received'>, readonly AlarmStage[]> = {
  accepted: ['received'],
  dispatched: ['received', 'accepted'],
  closed: ['received', 'accepted', 'dispatched'],
};

export interface DispatchDetails {
  unit?: string;
  etaMin?: number;
}

/**
 * The alarm as the CICs see and act on it: listing and reading within a scope, and the operator's
 * stage changes. Each change is appended to the timeline in the same transaction as the stage, and
 * only after the commit is the device told (the vibration tells the truth) and the CIC notified.
 */
@Injectable()
export class AlarmService {
  private readonly logger = new Logger('Alarms');

  constructor(
    @Inject(DATA_SOURCE) private readonly db: DataSource,
    private readonly link: DeviceLink,
    private readonly events: PlatformEvents,
  ) {}

  async list(scope: Scope, filter: { state?: 'open' | 'closed'; limit?: number }): Promise<AlarmView[]> {
    const where: FindOptionsWhere<Alarm> = {};
    if (scope.kind === 'integration') where.cicId = scope.cicId;
    if (filter.state === 'open') where.stage = Not('closed');
    if (filter.state === 'closed') where.stage = 'closed';
    const alarms = await this.db.getRepository(Alarm).find({
      where,
      order: { receivedAt: 'DESC' },
      take: filter.limit ?? 100,
    });
    return Promise.all(alarms.map((a) => loadAlarmView(this.db.manager, a)));
  }

  async get(scope: Scope, id: string): Promise<AlarmView> {
    const alarm = await this.findVisible(this.db.manager, scope, id);
    return loadAlarmView(this.db.manager, alarm);
  }

  accept(scope: Scope, id: string): Promise<AlarmView> {
    return this.advance(scope, id, 'accepted', {});
  }

  dispatch(scope: Scope, id: string, details: DispatchDetails): Promise<AlarmView> {
    return this.advance(scope, id, 'dispatched', { ...details });
  }

  close(scope: Scope, id: string, outcome: string): Promise<AlarmView> {
    return this.advance(scope, id, 'closed', { outcome });
  }

  private async advance(scope: Scope, id: string, to: keyof typeof TRANSITIONS, data: Record<string, unknown>): Promise<AlarmView> {
    const { alarm, encoding } = await this.db.transaction(async (tx) => {
      const alarm = await this.findVisible(tx, scope, id, true);
      if (!TRANSITIONS[to].includes(alarm.stage as AlarmStage)) {
        throw new ConflictException(`Alarm ${id} is ${alarm.stage}; it cannot become ${to} (allowed from: ${TRANSITIONS[to].join(', ')})`);
      }
      const now = new Date();
      alarm.stage = to;
      alarm.updatedAt = now;
      if (to === 'closed') {
        alarm.closedAt = now;
        alarm.outcome = String(data.outcome);
      }
      await tx.save(alarm);
      await tx.insert(AlarmEvent, { alarmId: alarm.id, at: now, type: to, data: { ...data, by: actorOf(scope) } });
      const device = await tx.findOne(Device, { where: { id: alarm.deviceId }, select: { id: true, encoding: true } });
      return { alarm, encoding: (device?.encoding ?? 'cbor') as Encoding };
    });
    await this.notifyDevice(alarm, to, encoding);
    const view = await loadAlarmView(this.db.manager, alarm);
    this.events.publish({ type: `alarm.${to}` as PlatformEventType, cicIds: [alarm.cicId], data: view });
    return view;
  }

  /**
   * A device (re)subscribed to its acks — after a loss of coverage, or a broker restart that lost its
   * queued messages: it is told the current stage of its open alarm again, so its last vibration
   * is never stale. The database, not the broker, is the source of truth.
   */
  async remindDevice(deviceId: string): Promise<void> {
    const alarm = await this.db.getRepository(Alarm).findOne({ where: { deviceId, stage: Not('closed') } });
    if (!alarm) return;
    const device = await this.db.getRepository(Device).findOne({ where: { id: deviceId }, select: { id: true, encoding: true } });
    await this.notifyDevice(alarm, alarm.stage as AlarmStage, (device?.encoding ?? 'cbor') as Encoding);
  }

  /**
   * An integration of the alarm's responsible CIC has received it (an SSE stream wrote it, or a
   * webhook answered 2xx). The first delivery is recorded in the timeline and stops the delivery
   * deadline; later ones are no-ops. Returns whether this call recorded it.
   */
  async markDelivered(alarmId: string, via: { channel: 'sse' | 'webhook'; integrationId: string }): Promise<boolean> {
    const recorded = await this.db.transaction(async (tx) => {
      const alarm = await tx.findOne(Alarm, { where: { id: alarmId }, lock: { mode: 'pessimistic_write' } });
      if (!alarm || alarm.deliveredAt) return null;
      const at = new Date();
      await tx.update(Alarm, { id: alarm.id }, { deliveredAt: at });
      await tx.insert(AlarmEvent, { alarmId: alarm.id, at, type: 'delivered', data: { via: via.channel, integrationId: via.integrationId, cicId: alarm.cicId } });
      return alarm;
    });
    return recorded !== null;
  }

  /** Sends the device the ack of the alarm's current stage; a failure is logged, the stage stands. */
  async notifyDevice(alarm: Alarm, stage: AckStage, encoding: Encoding): Promise<void> {
    const ack = makeAck(stage, { seq: alarm.lastSeq, alarm: alarm.id });
    try {
      await this.link.sendAck(alarm.deviceId, encoding, ack);
    } catch (err) {
      this.logger.error(`${alarm.deviceId}: ${stage} ack for alarm ${alarm.id} not sent: ${String(err)}`);
    }
  }

  private async findVisible(db: EntityManager, scope: Scope, id: string, lock = false): Promise<Alarm> {
    const alarm = await db.findOne(Alarm, {
      where: { id },
      ...(lock ? { lock: { mode: 'pessimistic_write' as const } } : {}),
    });
    // An integration is told nothing of another CIC's alarms, not even that they exist.
    if (!alarm || (scope.kind === 'integration' && alarm.cicId !== scope.cicId)) {
      throw new NotFoundException(`No alarm ${id} is visible to you`);
    }
    return alarm;
  }
}
