import { Check, Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn, type Relation } from 'typeorm';
import { Device } from './device.entity.js';

export const TECHNICAL_ALERT_TYPES = ['silent', 'low-battery', 'missed-self-test', 'flooding'] as const;
export type TechnicalAlertType = (typeof TECHNICAL_ALERT_TYPES)[number];

/** A technical alert on a device; at most one open alert per device and type. */
@Entity({ name: 'alerts' })
@Check('alerts_type_check', `type IN ('silent', 'low-battery', 'missed-self-test', 'flooding')`)
@Index('alerts_one_open_per_device_type', ['deviceId', 'type'], { unique: true, where: `cleared_at IS NULL` })
@Index('alerts_raised_at_idx', ['raisedAt'])
@Index('alerts_device_id_raised_at_idx', ['deviceId', 'raisedAt'])
export class TechnicalAlert {
  @PrimaryGeneratedColumn('uuid', { name: 'id', primaryKeyConstraintName: 'alerts_pkey' })
  id: string;

  @Column({ name: 'device_id', type: 'text' })
  deviceId: string;

  @ManyToOne(() => Device, { nullable: false, onDelete: 'CASCADE' })
  @JoinColumn({ name: 'device_id', foreignKeyConstraintName: 'alerts_device_id_fkey' })
  device?: Relation<Device>;

  @Column({ name: 'type', type: 'text' })
  type: TechnicalAlertType;

  @Column({ name: 'raised_at', type: 'timestamptz', default: () => 'now()' })
  raisedAt: Date;

  @Column({ name: 'cleared_at', type: 'timestamptz', nullable: true })
  clearedAt: Date | null;

  @Column({ name: 'details', type: 'jsonb', default: () => `'{}'` })
  details: Record<string, unknown>;

  /** An operator has seen it (it stays open until the device recovers). */
  @Column({ name: 'acknowledged_at', type: 'timestamptz', nullable: true })
  acknowledgedAt: Date | null;

  /** `admin` or `integration:<id>` */
  @Column({ name: 'acknowledged_by', type: 'text', nullable: true })
  acknowledgedBy: string | null;
}
