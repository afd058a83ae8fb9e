import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The platform's event log: every alarm and alert change, written in the transaction that makes
 * the change, so that an event exists if and only if its change does. Each node reads it to feed
 * its SSE streams (woken by NOTIFY), and a stream resumes from any event id (`Last-Event-ID`).
 *
 * An event's position is (tx, id): the writing transaction's id, then the row id. Readers take only
 * rows of transactions older than every transaction still running (`pg_snapshot_xmin`), in that
 * order, so a row can never appear behind a position already read — ids alone would not do: a
 * transaction may take id 10, commit after another took 11, and a reader that saw 11 would skip it.
 *
 * The webhook outbox is filled by a trigger from the same insert: one row per event per
 * integration with a webhook, in the event's transaction.
 */
export class EventLog1796000000000 implements MigrationInterface {
  name = 'EventLog1796000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE platform_events (
        id      bigserial PRIMARY KEY,
        tx      xid8 NOT NULL DEFAULT pg_current_xact_id(),
        type    text NOT NULL,
        cic_ids text[] NOT NULL,
        data    jsonb NOT NULL,
        at      timestamptz NOT NULL DEFAULT clock_timestamp()
      )`);
    await q.query(`CREATE INDEX platform_events_position_idx ON platform_events (tx, id)`);
    await q.query(`CREATE INDEX platform_events_at_idx ON platform_events (at)`);
    await q.query(`ALTER TABLE webhook_deliveries ADD COLUMN event_id bigint`);
    await q.query(`
      CREATE FUNCTION platform_events_fan_out() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        INSERT INTO webhook_deliveries (integration_id, event_id, event_type, payload, created_at)
        SELECT i.id, e.id, e.type, e.data, e.at
          FROM added e
          JOIN integrations i ON i.cic_id = ANY (e.cic_ids) AND i.revoked_at IS NULL AND i.webhook_url IS NOT NULL
         ORDER BY e.id;
        PERFORM pg_notify('amr_events', '');
        RETURN NULL;
      END $$`);
    await q.query(`
      CREATE TRIGGER platform_events_fan_out AFTER INSERT ON platform_events
        REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION platform_events_fan_out()`);
    await q.query(`
      CREATE TABLE platform_nodes (
        process    text PRIMARY KEY,
        node_id    text NOT NULL,
        roles      text[] NOT NULL,
        started_at timestamptz NOT NULL,
        seen_at    timestamptz NOT NULL
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE platform_nodes`);
    await q.query(`DROP TRIGGER platform_events_fan_out ON platform_events`);
    await q.query(`DROP FUNCTION platform_events_fan_out()`);
    await q.query(`ALTER TABLE webhook_deliveries DROP COLUMN event_id`);
    await q.query(`DROP TABLE platform_events`);
  }
}
