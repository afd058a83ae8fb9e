import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * An alarm's presses in the order they came: the alarm's view reads its first press's device time
 * (`ORDER BY id LIMIT 1`). With the index on alarm_id alone the planner walked the whole table in
 * id order and filtered (9 ms per alarm at 300,000 presses), which held announcements — and so the
 * CICs' streams — seconds behind the presses. (alarm_id, id) answers it from the first index entry.
 */
export class PressesByAlarm1796600000000 implements MigrationInterface {
  name = 'PressesByAlarm1796600000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX alarm_presses_alarm_id_id_idx ON alarm_presses (alarm_id, id)`);
    await q.query(`DROP INDEX alarm_presses_alarm_id_idx`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX alarm_presses_alarm_id_idx ON alarm_presses (alarm_id)`);
    await q.query(`DROP INDEX alarm_presses_alarm_id_id_idx`);
  }
}
