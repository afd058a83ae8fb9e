import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn, type Relation } from 'typeorm';
import { bigintAsNumber } from '../columns.js';
import { Alarm } from './alarm.entity.js';

/** Every alarm message received from a device, as decoded, including repeats (dedupe evidence). */
@Entity({ name: 'alarm_presses' })
@Index('alarm_presses_device_id_seq_received_at_idx', ['deviceId', 'seq', 'receivedAt']) // received_at DESC in SQL
@Index('alarm_presses_alarm_id_id_idx', ['alarmId', 'id'])
export class AlarmPress {
  @PrimaryColumn({
    name: 'id',
    type: 'bigint',
    generated: 'increment',
    transformer: bigintAsNumber,
    primaryKeyConstraintName: 'alarm_presses_pkey',
  })
  id: number;

  @Column({ name: 'alarm_id', type: 'uuid' })
  alarmId: string;

  @ManyToOne(() => Alarm, { nullable: false, onDelete: 'CASCADE' })
  @JoinColumn({ name: 'alarm_id', foreignKeyConstraintName: 'alarm_presses_alarm_id_fkey' })
  alarm?: Relation<Alarm>;

  /** denormalised from the alarm for the dedupe look-up by (device, seq) */
  @Column({ name: 'device_id', type: 'text' })
  deviceId: string;

  @Column({ name: 'seq', type: 'bigint', transformer: bigintAsNumber })
  seq: number;

  /** device clock, Unix seconds, as sent */
  @Column({ name: 'device_ts', type: 'bigint', nullable: true, transformer: bigintAsNumber })
  deviceTs: number | null;

  @Column({ name: 'received_at', type: 'timestamptz', default: () => 'now()' })
  receivedAt: Date;

  @Column({ name: 'message', type: 'jsonb' })
  message: Record<string, unknown>;
}
