import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn, type Relation } from 'typeorm';
import { bigintAsNumber } from '../columns.js';
import { Device } from './device.entity.js';

/**
 * The append-only history of a device: provisioning, assignment to a case and its grant, renewal,
 * settings, deactivation, secret rotation — who (`admin`, `integration:<id>`, `platform`), when, what.
 */
@Entity({ name: 'device_events' })
@Index('device_events_device_id_id_idx', ['deviceId', 'id'])
export class DeviceEvent {
  @PrimaryColumn({ name: 'id', type: 'bigint', generated: 'increment', transformer: bigintAsNumber, primaryKeyConstraintName: 'device_events_pkey' })
  id: number;

  @Column({ name: 'device_id', type: 'text' })
  deviceId: string;

  @ManyToOne(() => Device, { nullable: false, onDelete: 'CASCADE' })
  @JoinColumn({ name: 'device_id', foreignKeyConstraintName: 'device_events_device_id_fkey' })
  device?: Relation<Device>;

  @Column({ name: 'at', type: 'timestamptz', default: () => 'now()' })
  at: Date;

  @Column({ name: 'actor', type: 'text' })
  actor: string;

  /** e.g. `provisioned`, `assigned`, `unassigned`, `renewed`, `settings`, `deactivated`, `secret-rotated` */
  @Column({ name: 'type', type: 'text' })
  type: string;

  @Column({ name: 'details', type: 'jsonb', default: () => `'{}'` })
  details: Record<string, unknown>;
}
