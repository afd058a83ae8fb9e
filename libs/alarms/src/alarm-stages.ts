import { ConflictException, ForbiddenException, Inject, Injectable, ServiceUnavailableException } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity.js';
import { Alarm } from '@amr/persistence';
import { makeAck } from '@amr/protocol';
import { DATA_SOURCE, DeviceCommands, PlatformEvents } from '@amr/runtime';
import { alarmAudience, loadAlarmView, type AlarmView } from './alarm-view.js';
import { appendEvent } from './timeline.js';
import { DeliveryRecorder } from './delivery-recorder.js';
import { DeviceAcks, ackPaths } from './device-acks.js';
import type { CaseReadVia } from './case-reads.js';
import { findVisibleAlarm } from './alarm-queries.js';
import { actorOf, type Scope } from './scope.js';
import { TRANSITIONS, type OperatorStage } from './stage-transitions.js';

/** How an alarm reached its CIC: a confirmation, a webhook's 2xx, or an operator acting on it. */
export type DeliveryChannel = 'confirmation' | 'webhook' | 'operator';

export interface DispatchDetails {
  unit?: string;
  etaMin?: number;
}

/**
 * What happens to an alarm after it is stored: its delivery to the CIC (a confirmation, a
 * webhook's 2xx, an operator acting on it) and the operator's stage changes. Each change is
 * appended to the timeline and written to the event log in the same transaction as the stage, and
 * only after the commit is the device told (the vibration tells the truth).
 */
@Injectable()
export class AlarmStages {
  constructor(
    @Inject(DATA_SOURCE) private readonly db: DataSource,
    private readonly events: PlatformEvents,
    private readonly recorder: DeliveryRecorder,
    private readonly acks: DeviceAcks,
    private readonly commands: DeviceCommands,
  ) {}

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

  /**
   * `POST /alarms/{id}/delivered`: an integration of the responsible CIC says it has the alarm.
   * Idempotent; answers with the alarm as it is now.
   */
  async confirmDelivered(scope: Scope, id: string): Promise<AlarmView> {
    if (scope.kind !== 'integration') {
      throw new ForbiddenException('Delivery is confirmed by an integration of the CIC, with its own token: the admin token cannot say that a CIC has an alarm');
    }
    const alarm = await findVisibleAlarm(this.db.manager, scope, id);
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

  /**
   * An operator's stage change: the stage, its timeline entry and its event in one transaction;
   * then the device is told. An integration of the responsible CIC acting on an alarm has it: if
   * it was not yet delivered, that is its delivery.
   */
  private async advance(scope: Scope, id: string, to: OperatorStage, data: Record<string, unknown>, personal?: { outcome: string }): Promise<AlarmView> {
    const { alarm, view, route } = await this.db.transaction(async (tx) => {
      const alarm = await findVisibleAlarm(tx, scope, id, true);
      if (scope.kind === 'integration' && alarm.cicId !== scope.cicId) {
        throw new ForbiddenException(`Alarm ${id} is handled by ${alarm.cicId}; your CIC (${scope.cicId}) has an informational copy and cannot act on it`);
      }
      if (!TRANSITIONS[to].includes(alarm.stage)) {
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
      // Its SMS, if the device is reachable only that way, is written with the change: it goes out once this commits.
      if (route.sms) {
        const ack = makeAck(to, { seq: alarm.lastSeq, alarm: alarm.id });
        await this.acks.queueSms((text, values) => tx.query(text, values), [{ deviceId: alarm.deviceId, to: route.sms.to, key: route.sms.key, ack }]);
      }
      Object.assign(alarm, changes);
      const view = await loadAlarmView(tx, alarm);
      await PlatformEvents.append((text, values) => tx.query(text, values), [{ type: `alarm.${to}`, cicIds: alarmAudience(view), data: view }]);
      return { alarm, view, route };
    });
    this.events.committed();
    if (route.sms) this.acks.smsCommitted();
    await this.acks.sendStage(alarm, to, { ...route, sms: null });
    // CONTRACT §3 cmd: the in-alarm location period ends with the alarm (locEvery 0 = off).
    if (to === 'closed') await this.commands.sendUnstored(alarm.deviceId, route.encoding, { cmd: 'config', locEvery: 0 });
    return view;
  }
}
