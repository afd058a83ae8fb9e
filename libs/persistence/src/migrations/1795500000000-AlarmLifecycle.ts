import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The alarm lifecycle: CIC coverage areas and backup CICs (location routing, escalation), webhook
 * settings and their durable outbox, responder context on cases, delivery/escalation state on
 * alarms, a hash chain over the timeline, and the record of every read of case data.
 */
export class AlarmLifecycle1795500000000 implements MigrationInterface {
  name = 'AlarmLifecycle1795500000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE cics ADD COLUMN area jsonb`);
    await q.query(`ALTER TABLE cics ADD COLUMN area_source text`);
    await q.query(`ALTER TABLE cics ADD COLUMN backup_cic_id text`);
    await q.query(`ALTER TABLE cics ADD CONSTRAINT cics_backup_cic_id_fkey FOREIGN KEY (backup_cic_id) REFERENCES cics (id)`);

    await q.query(`ALTER TABLE integrations ADD COLUMN webhook_url text`);
    await q.query(`ALTER TABLE integrations ADD COLUMN webhook_secret text`);

    await q.query(`ALTER TABLE cases ADD COLUMN protection_orders jsonb`);
    await q.query(`ALTER TABLE cases ADD COLUMN victim jsonb`);

    await q.query(`ALTER TABLE alarms ADD COLUMN home_cic_id text`);
    await q.query(`ALTER TABLE alarms ADD CONSTRAINT alarms_home_cic_id_fkey FOREIGN KEY (home_cic_id) REFERENCES cics (id)`);
    await q.query(`ALTER TABLE alarms ADD COLUMN delivered_at timestamptz`);
    await q.query(`ALTER TABLE alarms ADD COLUMN accepted_at timestamptz`);
    await q.query(`ALTER TABLE alarms ADD COLUMN dispatched_at timestamptz`);
    await q.query(`ALTER TABLE alarms ADD COLUMN escalation_level integer NOT NULL DEFAULT 0`);
    await q.query(`ALTER TABLE alarms ADD COLUMN next_escalation_at timestamptz`);
    await q.query(`CREATE INDEX alarms_next_escalation_at_idx ON alarms (next_escalation_at)`);

    await q.query(`ALTER TABLE alarm_events ADD COLUMN prev_hash text`);
    await q.query(`ALTER TABLE alarm_events ADD COLUMN hash text`);

    await q.query(`
      CREATE TABLE webhook_deliveries (
        id              uuid        NOT NULL DEFAULT gen_random_uuid(),
        integration_id  uuid        NOT NULL,
        event_type      text        NOT NULL,
        payload         jsonb       NOT NULL,
        state           text        NOT NULL DEFAULT 'pending',
        attempts        integer     NOT NULL DEFAULT 0,
        next_attempt_at timestamptz NOT NULL DEFAULT now(),
        last_error      text,
        created_at      timestamptz NOT NULL DEFAULT now(),
        delivered_at    timestamptz,
        CONSTRAINT webhook_deliveries_pkey PRIMARY KEY (id),
        CONSTRAINT webhook_deliveries_integration_id_fkey FOREIGN KEY (integration_id) REFERENCES integrations (id) ON DELETE CASCADE,
        CONSTRAINT webhook_deliveries_state_check CHECK (state IN ('pending', 'delivered', 'failed'))
      )`);
    await q.query(`CREATE INDEX webhook_deliveries_state_next_attempt_at_idx ON webhook_deliveries (state, next_attempt_at)`);

    await q.query(`
      CREATE TABLE case_reads (
        id             bigserial   NOT NULL,
        case_id        uuid        NOT NULL,
        integration_id uuid        NOT NULL,
        alarm_id       uuid,
        via            text        NOT NULL,
        at             timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT case_reads_pkey PRIMARY KEY (id),
        CONSTRAINT case_reads_case_id_fkey FOREIGN KEY (case_id) REFERENCES cases (id) ON DELETE CASCADE,
        CONSTRAINT case_reads_integration_id_fkey FOREIGN KEY (integration_id) REFERENCES integrations (id) ON DELETE CASCADE
      )`);
    await q.query(`CREATE INDEX case_reads_case_id_at_idx ON case_reads (case_id, at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE case_reads`);
    await q.query(`DROP TABLE webhook_deliveries`);
    await q.query(`ALTER TABLE alarm_events DROP COLUMN hash`);
    await q.query(`ALTER TABLE alarm_events DROP COLUMN prev_hash`);
    await q.query(`DROP INDEX alarms_next_escalation_at_idx`);
    for (const column of ['next_escalation_at', 'escalation_level', 'dispatched_at', 'accepted_at', 'delivered_at']) {
      await q.query(`ALTER TABLE alarms DROP COLUMN ${column}`);
    }
    await q.query(`ALTER TABLE alarms DROP CONSTRAINT alarms_home_cic_id_fkey`);
    await q.query(`ALTER TABLE alarms DROP COLUMN home_cic_id`);
    await q.query(`ALTER TABLE cases DROP COLUMN victim`);
    await q.query(`ALTER TABLE cases DROP COLUMN protection_orders`);
    await q.query(`ALTER TABLE integrations DROP COLUMN webhook_secret`);
    await q.query(`ALTER TABLE integrations DROP COLUMN webhook_url`);
    await q.query(`ALTER TABLE cics DROP CONSTRAINT cics_backup_cic_id_fkey`);
    await q.query(`ALTER TABLE cics DROP COLUMN backup_cic_id`);
    await q.query(`ALTER TABLE cics DROP COLUMN area_source`);
    await q.query(`ALTER TABLE cics DROP COLUMN area`);
  }
}
