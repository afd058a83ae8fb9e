import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn, type Relation } from 'typeorm';
import { bigintAsNumber } from '../columns.js';
import { Alarm } from './alarm.entity.js';

/** The append-only timeline of an alarm: stage changes and other events, never updated except to erase a personal part. */
@Entity({ name: 'alarm_events' })
@Index('alarm_events_alarm_id_id_idx', ['alarmId', 'id'])
export class AlarmEvent {
  @PrimaryColumn({
    name: 'id',
    type: 'bigint',
    generated: 'increment',
    transformer: bigintAsNumber,
    primaryKeyConstraintName: 'alarm_events_pkey',
  })
  id: number;

  @Column({ name: 'alarm_id', type: 'uuid' })
  alarmId: string;

  @ManyToOne(() => Alarm, { nullable: false, onDelete: 'CASCADE' })
  @JoinColumn({ name: 'alarm_id', foreignKeyConstraintName: 'alarm_events_alarm_id_fkey' })
  alarm?: Relation<Alarm>;

  @Column({ name: 'at', type: 'timestamptz', default: () => 'now()' })
  at: Date;

  /** e.g. `received`, `accepted`, `press`, `delivered` */
  @Column({ name: 'type', type: 'text' })
  type: string;

  @Column({ name: 'data', type: 'jsonb', default: () => `'{}'` })
  data: Record<string, unknown>;

  /**
   * The entry's personal part (a position, an operator's free text), `{salt, data}`, kept apart so
   * that it can be erased; null when the entry has none or once it was erased.
   */
  @Column({ name: 'personal', type: 'jsonb', nullable: true })
  personal: { salt: string; data: Record<string, unknown> } | null;

  /** SHA-256 over the salt and the personal part: what the entry's hash covers, kept after erasure. */
  @Column({ name: 'personal_digest', type: 'text', nullable: true })
  personalDigest: string | null;

  /** When its personal part was erased (docs/security.md "Personal data"). */
  @Column({ name: 'erased_at', type: 'timestamptz', nullable: true })
  erasedAt: Date | null;

  /** The previous entry's hash (null for the first): the timeline is a hash chain. */
  @Column({ name: 'prev_hash', type: 'text', nullable: true })
  prevHash: string | null;

  /** SHA-256 over prevHash and this entry's canonical content. */
  @Column({ name: 'hash', type: 'text', nullable: true })
  hash: string | null;
}
