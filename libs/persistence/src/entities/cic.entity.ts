import { Column, CreateDateColumn, Entity, JoinColumn, ManyToOne, PrimaryColumn, type Relation } from 'typeorm';

/** A GeoJSON geometry (RFC 7946): a Polygon or MultiPolygon in WGS84 longitude/latitude. */
export interface CoverageArea {
  type: 'Polygon' | 'MultiPolygon';
  coordinates: number[][][] | number[][][][];
}

/** An emergency call centre (CIC). Ids are stable slugs, e.g. `cic-antwerpen` (CONTRACT §4). */
@Entity({ name: 'cics' })
export class Cic {
  @PrimaryColumn({ name: 'id', type: 'text', primaryKeyConstraintName: 'cics_pkey' })
  id: string;

  @Column({ name: 'name', type: 'text' })
  name: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  /** The area this CIC answers for; an alarm positioned inside it is routed here. */
  @Column({ name: 'area', type: 'jsonb', nullable: true })
  area: CoverageArea | null;

  /** Where the area came from (a data set name, or who uploaded it). */
  @Column({ name: 'area_source', type: 'text', nullable: true })
  areaSource: string | null;

  /** The CIC that takes over an alarm this one leaves unseen or unaccepted. */
  @Column({ name: 'backup_cic_id', type: 'text', nullable: true })
  backupCicId: string | null;

  @ManyToOne(() => Cic, { nullable: true })
  @JoinColumn({ name: 'backup_cic_id', foreignKeyConstraintName: 'cics_backup_cic_id_fkey' })
  backupCic?: Relation<Cic> | null;
}
