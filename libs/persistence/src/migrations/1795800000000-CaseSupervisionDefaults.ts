import type { MigrationInterface, QueryRunner } from 'typeorm';

/** A case may set the heartbeat interval and grace of the buttons granted to it. */
export class CaseSupervisionDefaults1795800000000 implements MigrationInterface {
  name = 'CaseSupervisionDefaults1795800000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE cases ADD COLUMN heartbeat_s integer`);
    await q.query(`ALTER TABLE cases ADD COLUMN grace_s integer`);
    await q.query(`ALTER TABLE cases ADD CONSTRAINT cases_heartbeat_s_check CHECK (heartbeat_s > 0)`);
    await q.query(`ALTER TABLE cases ADD CONSTRAINT cases_grace_s_check CHECK (grace_s >= 0)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE cases DROP CONSTRAINT cases_grace_s_check`);
    await q.query(`ALTER TABLE cases DROP CONSTRAINT cases_heartbeat_s_check`);
    await q.query(`ALTER TABLE cases DROP COLUMN grace_s`);
    await q.query(`ALTER TABLE cases DROP COLUMN heartbeat_s`);
  }
}
