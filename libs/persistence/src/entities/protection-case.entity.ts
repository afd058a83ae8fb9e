import { Check, Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn, type Relation } from 'typeorm';
import { Cic } from './cic.entity.js';

export const RISK_LEVELS = ['low', 'medium', 'high', 'critical'] as const;
export type RiskLevel = (typeof RISK_LEVELS)[number];

/** Perpetrator profile shown to the operator (CONTRACT §4, Case). */
export interface PerpetratorProfile {
  name?: string;
  description?: string;
  vehicle?: string;
  weaponsKnown?: boolean;
  [key: string]: unknown;
}

/** A protection case: the person a device protects, and who handles their alarms. */
@Entity({ name: 'cases' })
@Check('cases_risk_level_check', `risk_level IN ('low', 'medium', 'high', 'critical')`)
@Check('cases_heartbeat_s_check', `heartbeat_s > 0`)
@Check('cases_grace_s_check', `grace_s >= 0`)
@Index('cases_home_cic_id_idx', ['homeCicId'])
export class ProtectionCase {
  @PrimaryGeneratedColumn('uuid', { name: 'id', primaryKeyConstraintName: 'cases_pkey' })
  id: string;

  @Column({ name: 'home_cic_id', type: 'text' })
  homeCicId: string;

  @ManyToOne(() => Cic, { nullable: false })
  @JoinColumn({ name: 'home_cic_id', foreignKeyConstraintName: 'cases_home_cic_id_fkey' })
  homeCic?: Relation<Cic>;

  @Column({ name: 'reference', type: 'text', nullable: true })
  reference: string | null;

  @Column({ name: 'risk_level', type: 'text', nullable: true })
  riskLevel: RiskLevel | null;

  @Column({ name: 'responder_notes', type: 'text', nullable: true })
  responderNotes: string | null;

  @Column({ name: 'perpetrator', type: 'jsonb', nullable: true })
  perpetrator: PerpetratorProfile | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @Column({ name: 'closed_at', type: 'timestamptz', nullable: true })
  closedAt: Date | null;

  /** When its personal data was erased (after the retention period, or on request). */
  @Column({ name: 'erased_at', type: 'timestamptz', nullable: true })
  erasedAt: Date | null;

  /** Protection orders in force: `[{type, places?, perimeterM?, until?}]`. */
  @Column({ name: 'protection_orders', type: 'jsonb', nullable: true })
  protectionOrders: ProtectionOrder[] | null;

  /** Heartbeat interval for the buttons granted to this case (null: each device's own). */
  @Column({ name: 'heartbeat_s', type: 'integer', nullable: true })
  heartbeatS: number | null;

  /** Grace beyond the heartbeat for the buttons granted to this case (null: each device's own). */
  @Column({ name: 'grace_s', type: 'integer', nullable: true })
  graceS: number | null;

  /** What responders need to know about the victim: `{name?, phone?, languages?}`. */
  @Column({ name: 'victim', type: 'jsonb', nullable: true })
  victim: VictimContact | null;
}

export interface ProtectionOrder {
  type: string;
  places?: string[];
  perimeterM?: number;
  until?: string;
  [key: string]: unknown;
}

export interface VictimContact {
  name?: string;
  phone?: string;
  languages?: string[];
  [key: string]: unknown;
}
