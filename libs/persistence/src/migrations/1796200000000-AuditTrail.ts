import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The audit trail: every call to the HTTP API that reached its route — who (principal and CIC),
 * when, which route, on what (targets: the ids the call named or answered with) and how it ended
 * (status). Append-only: a trigger refuses every UPDATE and DELETE, whoever issues them, and the
 * entries form one hash chain (each entry's hash covers its content and its predecessor's hash),
 * so an entry altered, removed or inserted behind the database's back is found by verification.
 * No foreign keys: an entry outlives what it names (an erased case, a revoked integration).
 */
export class AuditTrail1796200000000 implements MigrationInterface {
  name = 'AuditTrail1796200000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE audit_entries (
        id        bigserial PRIMARY KEY,
        at        timestamptz NOT NULL,
        principal text NOT NULL,
        cic_id    text,
        method    text NOT NULL,
        route     text NOT NULL,
        action    text NOT NULL,
        targets   text[] NOT NULL,
        status    integer NOT NULL,
        details   jsonb NOT NULL,
        prev_hash text,
        hash      text NOT NULL
      )`);
    await q.query(`CREATE INDEX audit_entries_at_idx ON audit_entries (at)`);
    await q.query(`CREATE INDEX audit_entries_principal_idx ON audit_entries (principal, id)`);
    await q.query(`CREATE INDEX audit_entries_action_idx ON audit_entries (action, id)`);
    await q.query(`CREATE INDEX audit_entries_targets_idx ON audit_entries USING gin (targets)`);
    await q.query(`
      CREATE FUNCTION audit_entries_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'audit_entries is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
      END $$`);
    await q.query(`
      CREATE TRIGGER audit_entries_append_only BEFORE UPDATE OR DELETE ON audit_entries
        FOR EACH STATEMENT EXECUTE FUNCTION audit_entries_append_only()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TRIGGER audit_entries_append_only ON audit_entries`);
    await q.query(`DROP FUNCTION audit_entries_append_only()`);
    await q.query(`DROP TABLE audit_entries`);
  }
}
