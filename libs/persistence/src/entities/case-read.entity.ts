import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn, type Relation } from 'typeorm';
import { bigintAsNumber } from '../columns.js';
import { Integration } from './integration.entity.js';
import { ProtectionCase } from './protection-case.entity.js';

/** Every read of case data by an integration: who, which case, through which alarm, how, when. */
@Entity({ name: 'case_reads' })
@Index('case_reads_case_id_at_idx', ['caseId', 'at'])
export class CaseRead {
  @PrimaryColumn({ name: 'id', type: 'bigint', generated: 'increment', transformer: bigintAsNumber, primaryKeyConstraintName: 'case_reads_pkey' })
  id: number;

  @Column({ name: 'case_id', type: 'uuid' })
  caseId: string;

  @ManyToOne(() => ProtectionCase, { nullable: false, onDelete: 'CASCADE' })
  @JoinColumn({ name: 'case_id', foreignKeyConstraintName: 'case_reads_case_id_fkey' })
  case?: Relation<ProtectionCase>;

  @Column({ name: 'integration_id', type: 'uuid' })
  integrationId: string;

  @ManyToOne(() => Integration, { nullable: false, onDelete: 'CASCADE' })
  @JoinColumn({ name: 'integration_id', foreignKeyConstraintName: 'case_reads_integration_id_fkey' })
  integration?: Relation<Integration>;

  @Column({ name: 'alarm_id', type: 'uuid', nullable: true })
  alarmId: string | null;

  /** `api`, `sse` or `webhook` */
  @Column({ name: 'via', type: 'text' })
  via: string;

  @Column({ name: 'at', type: 'timestamptz', default: () => 'now()' })
  at: Date;
}
