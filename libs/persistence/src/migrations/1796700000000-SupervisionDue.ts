import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The supervision sweep (every AMR_SUPERVISION_SWEEP_MS, 1 s by default) looked at every device to
 * find the silent ones and those with a low battery: a scan of the whole fleet each second (59 ms
 * at 10,000 devices under load). `device_silent_due` is the moment a device falls silent (its last
 * contact, or its assignment, plus its heartbeat and grace), indexed over the devices a case
 * holds, so the sweep reads only the devices whose moment has passed; the battery index does the
 * same for the low-battery rule. Adding seconds to a timestamptz does not depend on the time zone,
 * so the function is immutable (which also keeps the planner from inlining it away from the index).
 */
export class SupervisionDue1796700000000 implements MigrationInterface {
  name = 'SupervisionDue1796700000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE FUNCTION device_silent_due(last_seen_at timestamptz, since timestamptz, heartbeat_s integer, grace_s integer)
      RETURNS timestamptz LANGUAGE sql IMMUTABLE PARALLEL SAFE
      AS $$ SELECT GREATEST(last_seen_at, since) + make_interval(secs => heartbeat_s + grace_s) $$`);
    await q.query(`
      CREATE INDEX devices_silent_due_idx ON devices (device_silent_due(last_seen_at, COALESCE(assigned_at, created_at), heartbeat_s, grace_s))
       WHERE active AND case_id IS NOT NULL`);
    await q.query(`CREATE INDEX devices_battery_idx ON devices (battery) WHERE active AND case_id IS NOT NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX devices_battery_idx`);
    await q.query(`DROP INDEX devices_silent_due_idx`);
    await q.query(`DROP FUNCTION device_silent_due(timestamptz, timestamptz, integer, integer)`);
  }
}
