import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Fleet and supervision: a device's hardware identity and its grant (assignment to a
 * case, with an expiry), the append-only history of what was done to a device and by whom, every
 * `status` report a device sent, and the acknowledgement of technical alerts.
 */
export class FleetSupervision1795700000000 implements MigrationInterface {
  name = 'FleetSupervision1795700000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE devices ADD COLUMN imei text`);
    await q.query(`ALTER TABLE devices ADD COLUMN iccid text`);
    await q.query(`ALTER TABLE devices ADD COLUMN model text`);
    await q.query(`ALTER TABLE devices ADD COLUMN assigned_at timestamptz`);
    await q.query(`ALTER TABLE devices ADD COLUMN grant_expires_at timestamptz`);
    await q.query(`ALTER TABLE devices ADD CONSTRAINT devices_imei_key UNIQUE (imei)`);

    await q.query(`ALTER TABLE alerts ADD COLUMN acknowledged_at timestamptz`);
    await q.query(`ALTER TABLE alerts ADD COLUMN acknowledged_by text`);
    await q.query(`CREATE INDEX alerts_device_id_raised_at_idx ON alerts (device_id, raised_at)`);

    await q.query(`CREATE INDEX device_commands_device_id_created_at_idx ON device_commands (device_id, created_at)`);

    await q.query(`
      CREATE TABLE device_events (
        id        bigserial   NOT NULL,
        device_id text        NOT NULL,
        at        timestamptz NOT NULL DEFAULT now(),
        actor     text        NOT NULL,
        type      text        NOT NULL,
        details   jsonb       NOT NULL DEFAULT '{}',
        CONSTRAINT device_events_pkey PRIMARY KEY (id),
        CONSTRAINT device_events_device_id_fkey FOREIGN KEY (device_id) REFERENCES devices (id) ON DELETE CASCADE
      )`);
    await q.query(`CREATE INDEX device_events_device_id_id_idx ON device_events (device_id, id)`);

    await q.query(`
      CREATE TABLE device_status_reports (
        id          bigserial   NOT NULL,
        device_id   text        NOT NULL,
        received_at timestamptz NOT NULL DEFAULT now(),
        seq         bigint,
        ts          bigint,
        battery     integer,
        rsrp        real,
        fw          text,
        position    jsonb,
        CONSTRAINT device_status_reports_pkey PRIMARY KEY (id),
        CONSTRAINT device_status_reports_device_id_fkey FOREIGN KEY (device_id) REFERENCES devices (id) ON DELETE CASCADE
      )`);
    await q.query(`CREATE INDEX device_status_reports_device_id_received_at_idx ON device_status_reports (device_id, received_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE device_status_reports`);
    await q.query(`DROP TABLE device_events`);
    await q.query(`DROP INDEX device_commands_device_id_created_at_idx`);
    await q.query(`DROP INDEX alerts_device_id_raised_at_idx`);
    await q.query(`ALTER TABLE alerts DROP COLUMN acknowledged_by`);
    await q.query(`ALTER TABLE alerts DROP COLUMN acknowledged_at`);
    await q.query(`ALTER TABLE devices DROP CONSTRAINT devices_imei_key`);
    for (const column of ['grant_expires_at', 'assigned_at', 'model', 'iccid', 'imei']) {
      await q.query(`ALTER TABLE devices DROP COLUMN ${column}`);
    }
  }
}
