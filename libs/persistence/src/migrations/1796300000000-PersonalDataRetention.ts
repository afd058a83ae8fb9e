import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Personal-data retention (docs/security.md "Personal data"): a timeline entry keeps its personal
 * part apart (`personal`, salted) and is hashed over that part's digest, so the part can be erased
 * and the hash chain still verifies; erased entries, alarms and cases say when they were erased.
 */
export class PersonalDataRetention1796300000000 implements MigrationInterface {
  name = 'PersonalDataRetention1796300000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE alarm_events ADD COLUMN personal jsonb, ADD COLUMN personal_digest text, ADD COLUMN erased_at timestamptz`);
    await q.query(`ALTER TABLE alarms ADD COLUMN personal_data_erased_at timestamptz`);
    await q.query(`CREATE INDEX alarms_retention_due_idx ON alarms (closed_at) WHERE stage = 'closed' AND personal_data_erased_at IS NULL`);
    await q.query(`ALTER TABLE cases ADD COLUMN erased_at timestamptz`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE cases DROP COLUMN erased_at`);
    await q.query(`DROP INDEX alarms_retention_due_idx`);
    await q.query(`ALTER TABLE alarms DROP COLUMN personal_data_erased_at`);
    await q.query(`ALTER TABLE alarm_events DROP COLUMN erased_at, DROP COLUMN personal_digest, DROP COLUMN personal`);
  }
}
