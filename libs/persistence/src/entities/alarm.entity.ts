import { Check, Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn, UpdateDateColumn, type Relation } from 'typeorm';
import { bigintAsNumber } from '../columns.js';
import { Cic } from './cic.entity.js';
import { Device } from './device.entity.js';
import { ProtectionCase } from './protection-case.entity.js';

import type { AlarmKind, AlarmStage } from '@amr/protocol';

/**
 * One alarm of one device. Repeated presses of an open alarm fold into it (pressCount,
 * lastSeq); the database allows at most one open (stage <> 'closed') alarm per device.
 * Stage changes are also appended to alarm_events (never overwritten).
 */
@Entity({ name: 'alarms' })
@Check('alarms_kind_check', `kind IN ('panic', 'test')`)
@Check('alarms_stage_check', `stage IN ('received', 'accepted', 'dispatched', 'closed')`)
@Check('alarms_press_count_check', `press_count >= 1`)
@Index('alarms_one_open_per_device', ['deviceId'], { unique: true, where: `stage <> 'closed'` })
@Index('alarms_cic_id_stage_idx', ['cicId', 'stage'])
@Index('alarms_device_id_received_at_idx', ['deviceId', 'receivedAt'])
@Index('alarms_case_id_idx', ['caseId'])
@Index('alarms_next_escalation_at_idx', ['nextEscalationAt'])
@Index('alarms_retention_due_idx', ['closedAt'], { where: `stage = 'closed' AND personal_data_erased_at IS NULL` })
export class Alarm {
  @PrimaryGeneratedColumn('uuid', { name: 'id', primaryKeyConstraintName: 'alarms_pkey' })
  id: string;

  @Column({ name: 'device_id', type: 'text' })
  deviceId: string;

  @ManyToOne(() => Device, { nullable: false })
  @JoinColumn({ name: 'device_id', foreignKeyConstraintName: 'alarms_device_id_fkey' })
  device?: Relation<Device>;

  @Column({ name: 'case_id', type: 'uuid', nullable: true })
  caseId: string | null;

  @ManyToOne(() => ProtectionCase, { nullable: true })
  @JoinColumn({ name: 'case_id', foreignKeyConstraintName: 'alarms_case_id_fkey' })
  case?: Relation<ProtectionCase> | null;

  @Column({ name: 'cic_id', type: 'text' })
  cicId: string;

  @ManyToOne(() => Cic, { nullable: false })
  @JoinColumn({ name: 'cic_id', foreignKeyConstraintName: 'alarms_cic_id_fkey' })
  cic?: Relation<Cic>;

  @Column({ name: 'kind', type: 'text' })
  kind: AlarmKind;

  @Column({ name: 'stage', type: 'text', default: 'received' })
  stage: AlarmStage;

  @Column({ name: 'press_count', type: 'integer', default: 1 })
  pressCount: number;

  @Column({ name: 'first_seq', type: 'bigint', transformer: bigintAsNumber })
  firstSeq: number;

  @Column({ name: 'last_seq', type: 'bigint', transformer: bigintAsNumber })
  lastSeq: number;

  /** Presses the device repeated (same seq): counted here, only the first few reach the timeline. */
  @Column({ name: 'retransmissions', type: 'integer', default: 0 })
  retransmissions: number;

  @Column({ name: 'flags', type: 'text', array: true, default: () => `'{}'` })
  flags: string[];

  @Column({ name: 'received_at', type: 'timestamptz', default: () => 'now()' })
  receivedAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;

  @Column({ name: 'closed_at', type: 'timestamptz', nullable: true })
  closedAt: Date | null;

  @Column({ name: 'outcome', type: 'text', nullable: true })
  outcome: string | null;

  /** The case's home CIC when the alarm was routed elsewhere: it gets an informational copy. */
  @Column({ name: 'home_cic_id', type: 'text', nullable: true })
  homeCicId: string | null;

  @ManyToOne(() => Cic, { nullable: true })
  @JoinColumn({ name: 'home_cic_id', foreignKeyConstraintName: 'alarms_home_cic_id_fkey' })
  homeCic?: Relation<Cic> | null;

  /** First time an integration of the responsible CIC received it (SSE or webhook). */
  @Column({ name: 'delivered_at', type: 'timestamptz', nullable: true })
  deliveredAt: Date | null;

  @Column({ name: 'accepted_at', type: 'timestamptz', nullable: true })
  acceptedAt: Date | null;

  @Column({ name: 'dispatched_at', type: 'timestamptz', nullable: true })
  dispatchedAt: Date | null;

  /** Escalation steps taken so far (re-notifications, hand-overs to a backup CIC). */
  @Column({ name: 'escalation_level', type: 'integer', default: 0 })
  escalationLevel: number;

  /** When the next escalation step is due unless the alarm is delivered / accepted first. */
  @Column({ name: 'next_escalation_at', type: 'timestamptz', nullable: true })
  nextEscalationAt: Date | null;

  /** When its positions, press payloads and outcome were erased (docs/security.md "Personal data"). */
  @Column({ name: 'personal_data_erased_at', type: 'timestamptz', nullable: true })
  personalDataErasedAt: Date | null;
}
