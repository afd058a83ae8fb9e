import type { MigrationInterface, QueryRunner } from 'typeorm';
import { BELGIAN_CIC_AREAS, applyDefaultCoverage } from '../belgian-cic-areas.js';

/**
 * Location routing out of the box: the default, coarse coverage area and a neighbouring
 * backup CIC for each of the eleven Belgian CICs. Data only; the columns came with
 * AlarmLifecycle1795500000000.
 */
export class DefaultCoverageAreas1795600000000 implements MigrationInterface {
  name = 'DefaultCoverageAreas1795600000000';

  async up(q: QueryRunner): Promise<void> {
    await applyDefaultCoverage((sql, params) => q.query(sql, params));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`UPDATE cics SET area = NULL, area_source = NULL, backup_cic_id = NULL WHERE id = ANY($1)`, [
      BELGIAN_CIC_AREAS.map((a) => a.cicId),
    ]);
  }
}
