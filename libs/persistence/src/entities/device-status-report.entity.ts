import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn, type Relation } from 'typeorm';
import { bigintAsNumber } from '../columns.js';
import { Device, type DevicePosition } from './device.entity.js';

/** One `status` message (CONTRACT §3 status) as a device sent it: its health over time. */
@Entity({ name: 'device_status_reports' })
@Index('device_status_reports_device_id_received_at_idx', ['deviceId', 'receivedAt'])
export class DeviceStatusReport {
  @PrimaryColumn({ name: 'id', type: 'bigint', generated: 'increment', transformer: bigintAsNumber, primaryKeyConstraintName: 'device_status_reports_pkey' })
  id: number;

  @Column({ name: 'device_id', type: 'text' })
  deviceId: string;

  @ManyToOne(() => Device, { nullable: false, onDelete: 'CASCADE' })
  @JoinColumn({ name: 'device_id', foreignKeyConstraintName: 'device_status_reports_device_id_fkey' })
  device?: Relation<Device>;

  @Column({ name: 'received_at', type: 'timestamptz', default: () => 'now()' })
  receivedAt: Date;

  @Column({ name: 'seq', type: 'bigint', nullable: true, transformer: bigintAsNumber })
  seq: number | null;

  /** device clock, Unix seconds */
  @Column({ name: 'ts', type: 'bigint', nullable: true, transformer: bigintAsNumber })
  ts: number | null;

  @Column({ name: 'battery', type: 'integer', nullable: true })
  battery: number | null;

  @Column({ name: 'rsrp', type: 'real', nullable: true })
  rsrp: number | null;

  @Column({ name: 'fw', type: 'text', nullable: true })
  fw: string | null;

  @Column({ name: 'position', type: 'jsonb', nullable: true })
  position: DevicePosition | null;
}
