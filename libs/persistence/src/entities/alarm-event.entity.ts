import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn, type Relation } from 'typeorm';
import { bigintAsNumber } from '../columns.js';
import { Alarm } from './alarm.entity.js';

/** The append-only timeline of an alarm: stage changes and other events, never updated. */
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

  /** The previous entry's hash (null for the first): the timeline is a hash chain. */
  @Column({ name: 'prev_hash', type: 'text', nullable: true })
  prevHash: string | null;

  /** SHA-256 over prevHash and this entry's canonical content. */
  @Column({ name: 'hash', type: 'text', nullable: true })
  hash: string | null;
}
