import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { DataSource, EntityManager } from 'typeorm';
import { Alarm, AlarmEvent, Cic } from '@amr/persistence';
import type { AmrConfig } from '@amr/config';
import { AMR_CONFIG, DATA_SOURCE, PlatformEvents, type PlatformEvent } from '@amr/runtime';
import { alarmAudience, appendEvent, loadAlarmView } from '@amr/alarms';

import { Periodic } from '../periodic.js';
import { escalationStep, handsOver } from './escalation-step.js';

type Step =
  | { kind: 're-notify'; alarm: Alarm; reason: string }
  | { kind: 'hand-over'; alarm: Alarm; reason: string; from: string };

/** Steps one sweep takes at most; the rest wait for the next sweep (AMR_ESCALATION_SWEEP_MS). */
const STEPS_PER_SWEEP = 20;

/**
 * An alarm never sits unseen. Each open alarm carries a deadline (`next_escalation_at`): delivery
 * to an integration of its CIC within AMR_DELIVERY_TIMEOUT_S, then acceptance by an operator within
 * AMR_ACCEPT_TIMEOUT_S. When it passes, the platform escalates, alternating: first it notifies the
 * CIC again, then it hands the alarm to the CIC's backup CIC, and so on; every step is recorded.
 * Deadlines live in the database, so a restart loses none; `SKIP LOCKED` lets several nodes sweep,
 * and each step is taken once: the step, its timeline entry and its events are one transaction.
 */
@Injectable()
export class EscalationService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Escalation');
  private readonly periodic = new Periodic(
    () => this.sweep(),
    (err) => this.logger.error(`escalation sweep failed: ${String(err)}`),
  );

  constructor(
    @Inject(DATA_SOURCE) private readonly db: DataSource,
    @Inject(AMR_CONFIG) private readonly config: AmrConfig,
    private readonly events: PlatformEvents,
  ) {}

  onApplicationBootstrap(): void {
    this.periodic.start(this.config.alarms.escalationSweepMs);
  }

  onApplicationShutdown(): Promise<void> {
    return this.periodic.stop();
  }

  /**
   * Takes the escalation steps that are due (up to STEPS_PER_SWEEP); returns how many were taken.
   * Each step is a transaction of its own, holding one alarm: a wave of escalations (a CIC whose
   * integration is down) must not hold many alarms' locks — which presses of those alarms wait for —
   * nor keep a transaction open for seconds, which holds back every event stream (the event log is
   * read only up to the oldest running transaction).
   */
  async sweep(now = new Date()): Promise<number> {
    let taken = 0;
    while (taken < STEPS_PER_SWEEP) {
      const step = await this.db.transaction(async (tx) => {
        const [alarm] = await tx
          .createQueryBuilder(Alarm, 'a')
          .setLock('pessimistic_write')
          .setOnLocked('skip_locked')
          .where(`a.stage <> 'closed'`)
          .andWhere('a.nextEscalationAt <= :now', { now })
          .orderBy('a.nextEscalationAt', 'ASC')
          .limit(1)
          .getMany();
        if (!alarm) return null;
        const step = await this.escalate(tx, alarm, now);
        await PlatformEvents.append((text, values) => tx.query(text, values), await this.announcements(tx, step));
        return step;
      });
      if (!step) break;
      taken += 1;
      this.events.committed();
    }
    return taken;
  }

  private async escalate(tx: EntityManager, alarm: Alarm, now: Date): Promise<Step> {
    const backup = handsOver(alarm.escalationLevel + 1) ? await this.backupOf(tx, alarm) : null;
    const next = escalationStep(alarm, backup, this.config.alarms, now);
    const { reason, level, nextEscalationAt } = next;
    if (next.kind === 'hand-over') {
      const from = alarm.cicId;
      // The case's home CIC keeps (or gets) an informational copy: no CIC is blind to its victims.
      const handedOver = { cicId: next.to, homeCicId: alarm.homeCicId ?? from, deliveredAt: null, escalationLevel: level, nextEscalationAt };
      await tx.update(Alarm, { id: alarm.id }, handedOver);
      await appendEvent(tx, alarm.id, 'escalated', { step: 'hand-over', reason, from, to: next.to, level }, now);
      this.logger.warn(`alarm ${alarm.id}: ${reason} by ${from}; handed over to ${next.to}`);
      return { kind: 'hand-over', alarm: Object.assign(alarm, handedOver), reason, from };
    }
    await tx.update(Alarm, { id: alarm.id }, { escalationLevel: level, nextEscalationAt });
    await appendEvent(tx, alarm.id, 'escalated', { step: 're-notify', reason, cicId: alarm.cicId, level, ...(next.noBackup ? { note: 'no backup CIC to hand over to' } : {}) }, now);
    if (next.noBackup) this.logger.error(`alarm ${alarm.id}: ${reason} by ${alarm.cicId}, and no backup CIC to hand it to`);
    return { kind: 're-notify', alarm: Object.assign(alarm, { escalationLevel: level, nextEscalationAt }), reason };
  }

  /** The CIC's configured backup, unless the alarm has already been there (no hand-over loops). */
  private async backupOf(tx: EntityManager, alarm: Alarm): Promise<string | null> {
    const cic = await tx.findOne(Cic, { where: { id: alarm.cicId }, select: { id: true, backupCicId: true } });
    const backup = cic?.backupCicId;
    if (!backup || backup === alarm.cicId) return null;
    const visited = await tx.getRepository(AlarmEvent).createQueryBuilder('e')
      .where('e.alarmId = :id', { id: alarm.id })
      .andWhere(`e.type = 'escalated'`)
      .andWhere(`e.data ->> 'from' = :backup`, { backup })
      .getExists();
    return visited ? null : backup;
  }

  /** What the CICs are told of a step: a re-notification, or the alarm arriving at its new CIC. */
  private async announcements(tx: EntityManager, step: Step): Promise<PlatformEvent[]> {
    const view = await loadAlarmView(tx, step.alarm);
    if (step.kind === 're-notify') return [{ type: 'alarm.escalated', cicIds: alarmAudience(view), data: view }];
    return [
      { type: 'alarm.received', cicIds: alarmAudience(view), data: view },
      // The CIC that let it sit learns it has gone, and where.
      { type: 'alarm.escalated', cicIds: [step.from, ...alarmAudience(view)], data: view },
    ];
  }
}
