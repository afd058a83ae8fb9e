import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The SMS outbox (CONTRACT §6; docs/sms-gateway.md): every ack that goes by SMS is a row here,
 * written with the press or stage change it reports, until the gateway has it or it is given up.
 * A row is claimed by one sender at a time (a lease on next_attempt_at), so any number of nodes
 * share the work and a crash leaves it to the next claim. The row holds the text as it is posted
 * (MAC included) and is deleted once its outcome is on the alarm's timeline.
 */
export class SmsOutbox1796500000000 implements MigrationInterface {
  name = 'SmsOutbox1796500000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE sms_outbox (
        id              uuid        NOT NULL DEFAULT gen_random_uuid(),
        device_id       text        NOT NULL,
        msisdn          text        NOT NULL,
        text            text        NOT NULL,
        alarm_id        uuid,
        stage           text        NOT NULL,
        attempts        integer     NOT NULL DEFAULT 0,
        next_attempt_at timestamptz NOT NULL DEFAULT now(),
        last_error      text,
        created_at      timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT sms_outbox_pkey PRIMARY KEY (id),
        CONSTRAINT sms_outbox_device_id_fkey FOREIGN KEY (device_id) REFERENCES devices (id) ON DELETE CASCADE,
        CONSTRAINT sms_outbox_alarm_id_fkey FOREIGN KEY (alarm_id) REFERENCES alarms (id) ON DELETE CASCADE
      )`);
    await q.query(`CREATE INDEX sms_outbox_next_attempt_at_idx ON sms_outbox (next_attempt_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE sms_outbox`);
  }
}
