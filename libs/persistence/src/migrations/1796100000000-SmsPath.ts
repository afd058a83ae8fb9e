import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The SMS path (CONTRACT §6): a device's registered phone number (E.164), from which alone its SMS
 * presses are accepted, and when its newest press came by SMS (acks follow that path while the
 * device is not connected over MQTT again).
 */
export class SmsPath1796100000000 implements MigrationInterface {
  name = 'SmsPath1796100000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE devices ADD COLUMN msisdn text, ADD COLUMN sms_contact_at timestamptz`);
    await q.query(`ALTER TABLE devices ADD CONSTRAINT devices_msisdn_key UNIQUE (msisdn)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE devices DROP CONSTRAINT devices_msisdn_key`);
    await q.query(`ALTER TABLE devices DROP COLUMN sms_contact_at, DROP COLUMN msisdn`);
  }
}
