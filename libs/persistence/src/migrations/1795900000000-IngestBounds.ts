import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Presses a device repeats (same seq) are counted on the alarm instead of each adding a timeline
 * entry, and a device that floods the platform raises a `flooding` technical alert.
 */
export class IngestBounds1795900000000 implements MigrationInterface {
  name = 'IngestBounds1795900000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE alarms ADD COLUMN retransmissions integer NOT NULL DEFAULT 0`);
    await q.query(`ALTER TABLE alerts DROP CONSTRAINT alerts_type_check`);
    await q.query(`ALTER TABLE alerts ADD CONSTRAINT alerts_type_check CHECK (type IN ('silent', 'low-battery', 'missed-self-test', 'flooding'))`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DELETE FROM alerts WHERE type = 'flooding'`);
    await q.query(`ALTER TABLE alerts DROP CONSTRAINT alerts_type_check`);
    await q.query(`ALTER TABLE alerts ADD CONSTRAINT alerts_type_check CHECK (type IN ('silent', 'low-battery', 'missed-self-test'))`);
    await q.query(`ALTER TABLE alarms DROP COLUMN retransmissions`);
  }
}
