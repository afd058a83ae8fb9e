import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

/** An emergency call centre (CIC). Ids are stable slugs, e.g. `cic-antwerpen` (CONTRACT §4). */
@Entity({ name: 'cics' })
export class Cic {
  @PrimaryColumn({ name: 'id', type: 'text', primaryKeyConstraintName: 'cics_pkey' })
  id: string;

  @Column({ name: 'name', type: 'text' })
  name: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
