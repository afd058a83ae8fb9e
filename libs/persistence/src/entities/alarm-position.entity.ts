import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn, type Relation } from 'typeorm';
import { bigintAsNumber } from '../columns.js';
import { Alarm } from './alarm.entity.js';

/** A position reported during an alarm. */
@Entity({ name: 'alarm_positions' })
@Index('alarm_positions_alarm_id_ts_idx', ['alarmId', 'ts'])
export class AlarmPosition {
  @PrimaryColumn({
    name: 'id',
    type: 'bigint',
    generated: 'increment',
    transformer: bigintAsNumber,
    primaryKeyConstraintName: 'alarm_positions_pkey',
  })
  id: number;

  @Column({ name: 'alarm_id', type: 'uuid' })
  alarmId: string;

  @ManyToOne(() => Alarm, { nullable: false, onDelete: 'CASCADE' })
  @JoinColumn({ name: 'alarm_id', foreignKeyConstraintName: 'alarm_positions_alarm_id_fkey' })
  alarm?: Relation<Alarm>;

  @Column({ name: 'lat', type: 'double precision' })
  lat: number;

  @Column({ name: 'lon', type: 'double precision' })
  lon: number;

  /** accuracy, metres */
  @Column({ name: 'acc', type: 'real', nullable: true })
  acc: number | null;

  /** device time, Unix seconds */
  @Column({ name: 'ts', type: 'bigint', nullable: true, transformer: bigintAsNumber })
  ts: number | null;

  /** fix source, e.g. gnss, wifi, cell */
  @Column({ name: 'src', type: 'text', nullable: true })
  src: string | null;

  @Column({ name: 'received_at', type: 'timestamptz', default: () => 'now()' })
  receivedAt: Date;
}
