import { createPublicKey } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { issueDeviceCertificate, loadDeviceCa } from '@amr/security';
import { createDeviceCa, deviceKeyAndCsr } from '../../../device-sim/src/pki.js';
import { ConfigError, loadConfig } from './config.js';

describe('device CA settings (TLS_DEVICE_CA, TLS_DEVICE_CA_KEY)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'amr-config-ca-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const file = (name: string, text: string) => (writeFileSync(join(dir, name), text), join(dir, name));
  const ca = createDeviceCa();
  const caFile = file('ca.pem', ca.cert);
  const keyFile = file('ca.key', ca.key);
  const failure = (env: Record<string, string>) => {
    try {
      loadConfig(env);
    } catch (err) {
      if (err instanceof ConfigError) return err.message;
      throw err;
    }
    return undefined;
  };

  it('is off unless set, and reads both files with a validity that defaults to two years', () => {
    expect(loadConfig({}).deviceCa).toBeNull();
    expect(loadConfig({ TLS_DEVICE_CA: caFile, TLS_DEVICE_CA_KEY: keyFile }).deviceCa).toEqual({ certFile: caFile, keyFile, validityDays: 730 });
    // a broker-only node: the certificate without the key
    expect(loadConfig({ TLS_DEVICE_CA: caFile, AMR_DEVICE_CERT_DAYS: '90' }).deviceCa).toEqual({ certFile: caFile, keyFile: undefined, validityDays: 90 });
  });

  it('stops start-up with the variable at fault', () => {
    const leaf = issueDeviceCertificate(loadDeviceCa(ca.cert, ca.key), 'btn-1', createPublicKey(deviceKeyAndCsr('btn-1').key), 1);
    expect(failure({ TLS_DEVICE_CA_KEY: keyFile })).toMatch(/^TLS_DEVICE_CA: TLS_DEVICE_CA_KEY is set/);
    expect(failure({ TLS_DEVICE_CA: join(dir, 'missing.pem') })).toMatch(/^TLS_DEVICE_CA: file not found/);
    expect(failure({ TLS_DEVICE_CA: file('junk.pem', 'junk') })).toMatch(/^TLS_DEVICE_CA: .* is not a PEM certificate/);
    expect(failure({ TLS_DEVICE_CA: file('leaf.pem', leaf.certificate) })).toMatch(/^TLS_DEVICE_CA: .* is not a CA certificate/);
    expect(failure({ TLS_DEVICE_CA: caFile, TLS_DEVICE_CA_KEY: file('other.key', createDeviceCa().key) })).toMatch(/^TLS_DEVICE_CA_KEY: .* is not the key of the certificate/);
    expect(failure({ TLS_DEVICE_CA: caFile, TLS_DEVICE_CA_KEY: caFile })).toMatch(/^TLS_DEVICE_CA_KEY: .* is not an unencrypted PEM private key/);
  });
});
