import { Check, Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn, type Relation } from 'typeorm';
import { Device } from './device.entity.js';

export const DEVICE_COMMAND_STATES = ['queued', 'sent', 'delivered', 'failed'] as const;
export type DeviceCommandState = (typeof DEVICE_COMMAND_STATES)[number];

/** A command for a device (CONTRACT §3 cmd), held while the device is offline. */
@Entity({ name: 'device_commands' })
@Check('device_commands_state_check', `state IN ('queued', 'sent', 'delivered', 'failed')`)
@Index('device_commands_device_id_state_idx', ['deviceId', 'state'])
@Index('device_commands_device_id_created_at_idx', ['deviceId', 'createdAt'])
export class DeviceCommand {
  @PrimaryGeneratedColumn('uuid', { name: 'id', primaryKeyConstraintName: 'device_commands_pkey' })
  id: string;

  @Column({ name: 'device_id', type: 'text' })
  deviceId: string;

  @ManyToOne(() => Device, { nullable: false, onDelete: 'CASCADE' })
  @JoinColumn({ name: 'device_id', foreignKeyConstraintName: 'device_commands_device_id_fkey' })
  device?: Relation<Device>;

  @Column({ name: 'body', type: 'jsonb' })
  body: Record<string, unknown>;

  @Column({ name: 'state', type: 'text', default: 'queued' })
  state: DeviceCommandState;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @Column({ name: 'sent_at', type: 'timestamptz', nullable: true })
  sentAt: Date | null;

  @Column({ name: 'delivered_at', type: 'timestamptz', nullable: true })
  deliveredAt: Date | null;
}
