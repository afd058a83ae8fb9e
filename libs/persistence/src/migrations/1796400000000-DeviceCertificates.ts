import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Device certificates (CONTRACT §1; docs/security.md "Device certificates"): a device keeps the
 * fingerprint, serial and end of the one client certificate that admits it. Issuing a new one
 * replaces them, which revokes the old.
 */
export class DeviceCertificates1796400000000 implements MigrationInterface {
  name = 'DeviceCertificates1796400000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE devices ADD COLUMN cert_fingerprint text, ADD COLUMN cert_serial text, ADD COLUMN cert_not_after timestamptz`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE devices DROP COLUMN cert_not_after, DROP COLUMN cert_serial, DROP COLUMN cert_fingerprint`);
  }
}
