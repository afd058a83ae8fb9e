import { bigintAsNumber } from '../columns.js';
import { Check, Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn, type Relation } from 'typeorm';
import { Integration } from './integration.entity.js';

export const WEBHOOK_DELIVERY_STATES = ['pending', 'delivered', 'failed'] as const;
export type WebhookDeliveryState = (typeof WEBHOOK_DELIVERY_STATES)[number];

/** The durable webhook outbox: one row per event per integration, retried until a 2xx. */
@Entity({ name: 'webhook_deliveries' })
@Check('webhook_deliveries_state_check', `state IN ('pending', 'delivered', 'failed')`)
@Index('webhook_deliveries_state_next_attempt_at_idx', ['state', 'nextAttemptAt'])
export class WebhookDelivery {
  /** Also the idempotency key the receiver sees (`X-AMR-Event-Id`). */
  @PrimaryGeneratedColumn('uuid', { name: 'id', primaryKeyConstraintName: 'webhook_deliveries_pkey' })
  id: string;

  @Column({ name: 'integration_id', type: 'uuid' })
  integrationId: string;

  @ManyToOne(() => Integration, { nullable: false, onDelete: 'CASCADE' })
  @JoinColumn({ name: 'integration_id', foreignKeyConstraintName: 'webhook_deliveries_integration_id_fkey' })
  integration?: Relation<Integration>;

  /** The event of the log (`platform_events`) this is the webhook copy of. */
  @Column({ name: 'event_id', type: 'bigint', nullable: true, transformer: bigintAsNumber })
  eventId: number | null;

  @Column({ name: 'event_type', type: 'text' })
  eventType: string;

  @Column({ name: 'payload', type: 'jsonb' })
  payload: Record<string, unknown>;

  @Column({ name: 'state', type: 'text', default: 'pending' })
  state: WebhookDeliveryState;

  @Column({ name: 'attempts', type: 'integer', default: 0 })
  attempts: number;

  @Column({ name: 'next_attempt_at', type: 'timestamptz', default: () => 'now()' })
  nextAttemptAt: Date;

  @Column({ name: 'last_error', type: 'text', nullable: true })
  lastError: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @Column({ name: 'delivered_at', type: 'timestamptz', nullable: true })
  deliveredAt: Date | null;
}
