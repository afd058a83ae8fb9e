import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn, type Relation } from 'typeorm';
import { Alarm } from './alarm.entity.js';
import { Device } from './device.entity.js';

/**
 * The durable SMS outbox (CONTRACT §6): one row per ack due by SMS, from the transaction that made
 * it due until the gateway has it (2xx) or it is given up; its outcome then goes to the alarm's
 * timeline and the row is deleted.
 */
@Entity({ name: 'sms_outbox' })
@Index('sms_outbox_next_attempt_at_idx', ['nextAttemptAt'])
export class SmsOutboxEntry {
  @PrimaryGeneratedColumn('uuid', { name: 'id', primaryKeyConstraintName: 'sms_outbox_pkey' })
  id: string;

  @Column({ name: 'device_id', type: 'text' })
  deviceId: string;

  @ManyToOne(() => Device, { nullable: false, onDelete: 'CASCADE' })
  @JoinColumn({ name: 'device_id', foreignKeyConstraintName: 'sms_outbox_device_id_fkey' })
  device?: Relation<Device>;

  /** The device's registered number (E.164) when the ack was due. */
  @Column({ name: 'msisdn', type: 'text' })
  msisdn: string;

  /** The text exactly as it is posted: the ack, sealed with the device's MAC key. */
  @Column({ name: 'text', type: 'text' })
  text: string;

  @Column({ name: 'alarm_id', type: 'uuid', nullable: true })
  alarmId: string | null;

  @ManyToOne(() => Alarm, { nullable: true, onDelete: 'CASCADE' })
  @JoinColumn({ name: 'alarm_id', foreignKeyConstraintName: 'sms_outbox_alarm_id_fkey' })
  alarm?: Relation<Alarm>;

  /** The ack's stage (`received`, `accepted`, …, `rejected`). */
  @Column({ name: 'stage', type: 'text' })
  stage: string;

  /** Attempts claimed so far (a claim counts its attempt before the post). */
  @Column({ name: 'attempts', type: 'integer', default: 0 })
  attempts: number;

  /** When the next attempt is due; while an attempt is in flight, the end of its lease. */
  @Column({ name: 'next_attempt_at', type: 'timestamptz', default: () => 'now()' })
  nextAttemptAt: Date;

  @Column({ name: 'last_error', type: 'text', nullable: true })
  lastError: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
