import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from '@jest/globals';
import { createDeviceCa } from '../../device-sim/src/pki.js';

/**
 * TLS_DEVICE_CA and TLS_DEVICE_CA_KEY: a device CA made for the suite, so that certificate requests
 * are served. Call it inside the suite's `describe`: its files are removed after the suite.
 */
export function deviceCaSettings(): Record<string, string> {
  const dir = mkdtempSync(join(tmpdir(), 'amr-device-ca-'));
  const ca = createDeviceCa();
  writeFileSync(join(dir, 'ca.pem'), ca.cert);
  writeFileSync(join(dir, 'ca.key'), ca.key);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  return { TLS_DEVICE_CA: join(dir, 'ca.pem'), TLS_DEVICE_CA_KEY: join(dir, 'ca.key') };
}
