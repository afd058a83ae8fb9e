import type { MigrationInterface, QueryRunner } from 'typeorm';
import { BELGIAN_CICS } from '../belgian-cics.js';

/**
 * The initial schema. Hand-written and reviewed; it serves PostgreSQL (≥ 13: gen_random_uuid()
 * is built in, no extension needed) and PGlite alike. Constraint and index names are spelled
 * out, and the entities name the same ones, so TypeORM's schema diff against them is empty.
 * One statement per query: PGlite's extended protocol (used with parameters) takes one at a time.
 */
export class Initial1795400000000 implements MigrationInterface {
  name = 'Initial1795400000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE cics (
        id         text        NOT NULL,
        name       text        NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT cics_pkey PRIMARY KEY (id)
      )`);

    await q.query(`
      CREATE TABLE integrations (
        id         uuid        NOT NULL DEFAULT gen_random_uuid(),
        cic_id     text        NOT NULL,
        name       text        NOT NULL,
        token_hash text        NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        revoked_at timestamptz,
        CONSTRAINT integrations_pkey PRIMARY KEY (id),
        CONSTRAINT integrations_token_hash_key UNIQUE (token_hash),
        CONSTRAINT integrations_cic_id_fkey FOREIGN KEY (cic_id) REFERENCES cics (id)
      )`);
    await q.query(`CREATE INDEX integrations_cic_id_idx ON integrations (cic_id)`);

    await q.query(`
      CREATE TABLE cases (
        id              uuid        NOT NULL DEFAULT gen_random_uuid(),
        home_cic_id     text        NOT NULL,
        reference       text,
        risk_level      text,
        responder_notes text,
        perpetrator     jsonb,
        created_at      timestamptz NOT NULL DEFAULT now(),
        closed_at       timestamptz,
        CONSTRAINT cases_pkey PRIMARY KEY (id),
        CONSTRAINT cases_home_cic_id_fkey FOREIGN KEY (home_cic_id) REFERENCES cics (id),
        CONSTRAINT cases_risk_level_check CHECK (risk_level IN ('low', 'medium', 'high', 'critical'))
      )`);
    await q.query(`CREATE INDEX cases_home_cic_id_idx ON cases (home_cic_id)`);

    await q.query(`
      CREATE TABLE devices (
        id              text        NOT NULL,
        case_id         uuid,
        secret_hash     text        NOT NULL,
        active          boolean     NOT NULL DEFAULT true,
        encoding        text        NOT NULL DEFAULT 'cbor',
        heartbeat_s     integer     NOT NULL DEFAULT 3600,
        grace_s         integer     NOT NULL DEFAULT 600,
        connected       boolean     NOT NULL DEFAULT false,
        connected_at    timestamptz,
        disconnected_at timestamptz,
        last_seen_at    timestamptz,
        battery         integer,
        rsrp            real,
        fw              text,
        last_position   jsonb,
        last_alarm_seq  bigint,
        created_at      timestamptz NOT NULL DEFAULT now(),
        deactivated_at  timestamptz,
        CONSTRAINT devices_pkey PRIMARY KEY (id),
        CONSTRAINT devices_case_id_fkey FOREIGN KEY (case_id) REFERENCES cases (id),
        CONSTRAINT devices_encoding_check CHECK (encoding IN ('cbor', 'json')),
        CONSTRAINT devices_heartbeat_s_check CHECK (heartbeat_s > 0),
        CONSTRAINT devices_grace_s_check CHECK (grace_s >= 0)
      )`);
    await q.query(`CREATE INDEX devices_case_id_idx ON devices (case_id)`);

    await q.query(`
      CREATE TABLE alarms (
        id          uuid        NOT NULL DEFAULT gen_random_uuid(),
        device_id   text        NOT NULL,
        case_id     uuid,
        cic_id      text        NOT NULL,
        kind        text        NOT NULL,
        stage       text        NOT NULL DEFAULT 'received',
        press_count integer     NOT NULL DEFAULT 1,
        first_seq   bigint      NOT NULL,
        last_seq    bigint      NOT NULL,
        flags       text[]      NOT NULL DEFAULT '{}',
        received_at timestamptz NOT NULL DEFAULT now(),
        updated_at  timestamptz NOT NULL DEFAULT now(),
        closed_at   timestamptz,
        outcome     text,
        CONSTRAINT alarms_pkey PRIMARY KEY (id),
        CONSTRAINT alarms_device_id_fkey FOREIGN KEY (device_id) REFERENCES devices (id),
        CONSTRAINT alarms_case_id_fkey FOREIGN KEY (case_id) REFERENCES cases (id),
        CONSTRAINT alarms_cic_id_fkey FOREIGN KEY (cic_id) REFERENCES cics (id),
        CONSTRAINT alarms_kind_check CHECK (kind IN ('panic', 'test')),
        CONSTRAINT alarms_stage_check CHECK (stage IN ('received', 'accepted', 'dispatched', 'closed')),
        CONSTRAINT alarms_press_count_check CHECK (press_count >= 1)
      )`);
    // at most one open alarm per device: a concurrent second insert fails with 23505
    await q.query(`CREATE UNIQUE INDEX alarms_one_open_per_device ON alarms (device_id) WHERE stage <> 'closed'`);
    await q.query(`CREATE INDEX alarms_cic_id_stage_idx ON alarms (cic_id, stage)`);
    await q.query(`CREATE INDEX alarms_device_id_received_at_idx ON alarms (device_id, received_at)`);
    await q.query(`CREATE INDEX alarms_case_id_idx ON alarms (case_id)`);

    await q.query(`
      CREATE TABLE alarm_presses (
        id          bigserial   NOT NULL,
        alarm_id    uuid        NOT NULL,
        device_id   text        NOT NULL,
        seq         bigint      NOT NULL,
        device_ts   bigint,
        received_at timestamptz NOT NULL DEFAULT now(),
        message     jsonb       NOT NULL,
        CONSTRAINT alarm_presses_pkey PRIMARY KEY (id),
        CONSTRAINT alarm_presses_alarm_id_fkey FOREIGN KEY (alarm_id) REFERENCES alarms (id) ON DELETE CASCADE
      )`);
    await q.query(
      `CREATE INDEX alarm_presses_device_id_seq_received_at_idx ON alarm_presses (device_id, seq, received_at DESC)`,
    );
    await q.query(`CREATE INDEX alarm_presses_alarm_id_idx ON alarm_presses (alarm_id)`);

    await q.query(`
      CREATE TABLE alarm_positions (
        id          bigserial        NOT NULL,
        alarm_id    uuid             NOT NULL,
        lat         double precision NOT NULL,
        lon         double precision NOT NULL,
        acc         real,
        ts          bigint,
        src         text,
        received_at timestamptz      NOT NULL DEFAULT now(),
        CONSTRAINT alarm_positions_pkey PRIMARY KEY (id),
        CONSTRAINT alarm_positions_alarm_id_fkey FOREIGN KEY (alarm_id) REFERENCES alarms (id) ON DELETE CASCADE
      )`);
    await q.query(`CREATE INDEX alarm_positions_alarm_id_ts_idx ON alarm_positions (alarm_id, ts)`);

    await q.query(`
      CREATE TABLE alarm_events (
        id       bigserial   NOT NULL,
        alarm_id uuid        NOT NULL,
        at       timestamptz NOT NULL DEFAULT now(),
        type     text        NOT NULL,
        data     jsonb       NOT NULL DEFAULT '{}',
        CONSTRAINT alarm_events_pkey PRIMARY KEY (id),
        CONSTRAINT alarm_events_alarm_id_fkey FOREIGN KEY (alarm_id) REFERENCES alarms (id) ON DELETE CASCADE
      )`);
    await q.query(`CREATE INDEX alarm_events_alarm_id_id_idx ON alarm_events (alarm_id, id)`);

    await q.query(`
      CREATE TABLE alerts (
        id         uuid        NOT NULL DEFAULT gen_random_uuid(),
        device_id  text        NOT NULL,
        type       text        NOT NULL,
        raised_at  timestamptz NOT NULL DEFAULT now(),
        cleared_at timestamptz,
        details    jsonb       NOT NULL DEFAULT '{}',
        CONSTRAINT alerts_pkey PRIMARY KEY (id),
        CONSTRAINT alerts_device_id_fkey FOREIGN KEY (device_id) REFERENCES devices (id) ON DELETE CASCADE,
        CONSTRAINT alerts_type_check CHECK (type IN ('silent', 'low-battery', 'missed-self-test'))
      )`);
    await q.query(
      `CREATE UNIQUE INDEX alerts_one_open_per_device_type ON alerts (device_id, type) WHERE cleared_at IS NULL`,
    );
    await q.query(`CREATE INDEX alerts_raised_at_idx ON alerts (raised_at)`);

    await q.query(`
      CREATE TABLE device_commands (
        id           uuid        NOT NULL DEFAULT gen_random_uuid(),
        device_id    text        NOT NULL,
        body         jsonb       NOT NULL,
        state        text        NOT NULL DEFAULT 'queued',
        created_at   timestamptz NOT NULL DEFAULT now(),
        sent_at      timestamptz,
        delivered_at timestamptz,
        CONSTRAINT device_commands_pkey PRIMARY KEY (id),
        CONSTRAINT device_commands_device_id_fkey FOREIGN KEY (device_id) REFERENCES devices (id) ON DELETE CASCADE,
        CONSTRAINT device_commands_state_check CHECK (state IN ('queued', 'sent', 'delivered', 'failed'))
      )`);
    await q.query(`CREATE INDEX device_commands_device_id_state_idx ON device_commands (device_id, state)`);

    const values = BELGIAN_CICS.map((_, i) => `($${2 * i + 1}, $${2 * i + 2})`).join(', ');
    await q.query(
      `INSERT INTO cics (id, name) VALUES ${values}`,
      BELGIAN_CICS.flatMap((cic) => [cic.id, cic.name]),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    for (const table of [
      'device_commands',
      'alerts',
      'alarm_events',
      'alarm_positions',
      'alarm_presses',
      'alarms',
      'devices',
      'cases',
      'integrations',
      'cics',
    ]) {
      await q.query(`DROP TABLE ${table}`);
    }
  }
}
