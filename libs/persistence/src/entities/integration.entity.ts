import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn, Unique, type Relation } from 'typeorm';
import { Cic } from './cic.entity.js';

/** A CIC-scoped API client. Only the SHA-256 (hex) of its bearer token is stored. */
@Entity({ name: 'integrations' })
@Unique('integrations_token_hash_key', ['tokenHash'])
@Index('integrations_cic_id_idx', ['cicId'])
export class Integration {
  @PrimaryGeneratedColumn('uuid', { name: 'id', primaryKeyConstraintName: 'integrations_pkey' })
  id: string;

  @Column({ name: 'cic_id', type: 'text' })
  cicId: string;

  @ManyToOne(() => Cic, { nullable: false })
  @JoinColumn({ name: 'cic_id', foreignKeyConstraintName: 'integrations_cic_id_fkey' })
  cic?: Relation<Cic>;

  @Column({ name: 'name', type: 'text' })
  name: string;

  /** sha-256 hex of the bearer token */
  @Column({ name: 'token_hash', type: 'text' })
  tokenHash: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @Column({ name: 'revoked_at', type: 'timestamptz', nullable: true })
  revokedAt: Date | null;

  /** Where events are POSTed, signed with `webhookSecret` (null: no webhook). */
  @Column({ name: 'webhook_url', type: 'text', nullable: true })
  webhookUrl: string | null;

  /** HMAC-SHA256 key for webhook signatures. Kept as issued: the platform must sign with it. */
  @Column({ name: 'webhook_secret', type: 'text', nullable: true })
  webhookSecret: string | null;
}
