import { X509Certificate, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import type { IClientOptions, MqttClient } from 'mqtt';
import { issueDeviceCertificate, loadDeviceCa } from '@amr/security';
import { certificationRequest, createDeviceCa, createServerCertificate, deviceKeyAndCsr } from '../device-sim/src/pki.js';
import { usePlatform } from './support/platform.js';
import { TestDevice, connackCode, connectClient } from './support/device.js';

const NOT_AUTHORIZED = 5;

/** A device CA, a foreign CA and the broker's certificate, made for this run only. */
const dir = mkdtempSync(join(tmpdir(), 'amr-device-certs-'));
const deviceCa = createDeviceCa('AMR device CA (test)');
const foreignCa = createDeviceCa('Somebody else');
const server = createServerCertificate();
const file = (name: string, pem: string) => {
  const path = join(dir, name);
  writeFileSync(path, pem);
  return path;
};

describe('device certificates (CONTRACT §1): admitted over TLS without a password', () => {
  const suite = usePlatform({
    MQTTS_PORT: '0',
    TLS_CERT: file('server.pem', server.cert),
    TLS_KEY: file('server.key', server.key),
    TLS_DEVICE_CA: file('device-ca.pem', deviceCa.cert),
    TLS_DEVICE_CA_KEY: file('device-ca.key', deviceCa.key),
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const mqtts = () => `mqtts://127.0.0.1:${suite.platform.running.ports.mqtts}`;
  /** Trusts the broker's certificate; with `key`/`cert`, presents a client certificate. */
  const tls = (identity: { key?: string; cert?: string } = {}): IClientOptions => ({ ca: server.cert, rejectUnauthorized: true, ...identity });
  /** CONNECT with clientId = username = id and no password, presenting the certificate. */
  const withCertificate = (id: string, identity: { key: string; cert: string }, extra: IClientOptions = {}) =>
    connackCode(mqtts(), { clientId: id, username: id, ...tls(identity), ...extra });

  const issue = (id: string, csr: unknown) => suite.platform.api().post(`/devices/${id}/certificate`, { csr });
  /** A provisioned device, its key and the certificate issued for it. */
  async function deviceWithCertificate() {
    const device = await suite.platform.provision();
    const { key, csr } = deviceKeyAndCsr(device.deviceId);
    const res = await issue(device.deviceId, csr).expect(201);
    return { ...device, key, cert: res.body.certificate as string, issued: res.body };
  }

  it('issues a certificate for a CSR; the device connects with it and no password, and its press is received', async () => {
    const { deviceId, key, cert, issued } = await deviceWithCertificate();
    const x509 = new X509Certificate(cert);
    expect(x509.subject).toBe(`CN=${deviceId}`);
    expect(x509.checkIssued(new X509Certificate(deviceCa.cert))).toBe(true);
    expect(issued).toMatchObject({ deviceId, serial: x509.serialNumber.toLowerCase(), notAfter: expect.any(String) });
    const days = (Date.parse(issued.notAfter) - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(729);
    expect(days).toBeLessThan(731);
    const health = await suite.platform.api().get(`/devices/${deviceId}`).expect(200);
    expect(health.body.certificate).toEqual({ serial: issued.serial, fingerprint: issued.fingerprint, notAfter: issued.notAfter });

    const device = await TestDevice.connect(mqtts(), deviceId, '', { ...tls({ key, cert }), password: undefined });
    try {
      await device.press({ seq: 1 });
      expect((await device.stage('received', 1)).vib).toBe('short');
    } finally {
      await device.close();
    }
    // without a user name too (MQTT 3.1.1 §3.1.2.8: it is optional)
    expect(await withCertificate(deviceId, { key, cert }, { username: undefined })).toBe(0);
  });

  it('refuses a certificate presented with another client id (its CN is what it proves)', async () => {
    const { key, cert } = await deviceWithCertificate();
    const other = await suite.platform.provision();
    expect(await withCertificate(other.deviceId, { key, cert })).toBe(NOT_AUTHORIZED);
    // …even with the other device's right secret: the certificate speaks for someone else
    expect(await connackCode(mqtts(), { clientId: other.deviceId, username: other.deviceId, password: other.secret, ...tls({ key, cert }) })).toBe(NOT_AUTHORIZED);
  });

  it('gives a certificate of another CA nothing: without the secret refused, with it admitted', async () => {
    const { deviceId, secret } = await suite.platform.provision();
    const { key } = deviceKeyAndCsr(deviceId);
    const foreign = issueDeviceCertificate(loadDeviceCa(foreignCa.cert, foreignCa.key), deviceId, createPublicKey(key), 30);
    expect(await withCertificate(deviceId, { key, cert: foreign.certificate })).toBe(NOT_AUTHORIZED);
    expect(await connackCode(mqtts(), { clientId: deviceId, username: deviceId, password: secret, ...tls({ key, cert: foreign.certificate }) })).toBe(0);
  });

  it('refuses the certificate of a deactivated device, and cuts its connection', async () => {
    const { deviceId, key, cert } = await deviceWithCertificate();
    const client = await connectClient(mqtts(), { clientId: deviceId, username: deviceId, ...tls({ key, cert }) });
    const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
    await suite.platform.api().post(`/devices/${deviceId}/deactivate`).expect(200);
    await closed;
    expect(await withCertificate(deviceId, { key, cert })).toBe(NOT_AUTHORIZED);
    const again = deviceKeyAndCsr(deviceId);
    const refused = await issue(deviceId, again.csr).expect(409);
    expect(refused.body.message).toMatch(/deactivated/);
  });

  it('a new certificate revokes the one before: its connection is cut and it is refused', async () => {
    const first = await deviceWithCertificate();
    const client: MqttClient = await connectClient(mqtts(), { clientId: first.deviceId, username: first.deviceId, ...tls(first) });
    const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
    const second = deviceKeyAndCsr(first.deviceId, 'rsa');
    const res = await issue(first.deviceId, second.csr).expect(201);
    await closed;
    client.end(true);
    expect(res.body.serial).not.toBe(first.issued.serial);
    expect(await withCertificate(first.deviceId, first)).toBe(NOT_AUTHORIZED);
    expect(await withCertificate(first.deviceId, { key: second.key, cert: res.body.certificate })).toBe(0);
  });

  it('keeps secrets and certificates apart: rotating one leaves the other working; a revoked certificate leaves the secret', async () => {
    const { deviceId, secret, key, cert } = await deviceWithCertificate();
    expect(await connackCode(mqtts(), { clientId: deviceId, username: deviceId, password: secret, ...tls() })).toBe(0); // issuing kept the secret
    const rotated = await suite.platform.api().post(`/devices/${deviceId}/rotate-secret`).expect(200);
    expect(await withCertificate(deviceId, { key, cert })).toBe(0);

    const revoked = await suite.platform.api().delete(`/devices/${deviceId}/certificate`).expect(200);
    expect(revoked.body).toEqual({ deviceId, revoked: expect.any(String) });
    expect(await withCertificate(deviceId, { key, cert })).toBe(NOT_AUTHORIZED);
    expect(await connackCode(mqtts(), { clientId: deviceId, username: deviceId, password: rotated.body.secret, ...tls() })).toBe(0);
    expect((await suite.platform.api().get(`/devices/${deviceId}`).expect(200)).body.certificate).toBeNull();
    const history = await suite.platform.api().get(`/devices/${deviceId}/history`).expect(200);
    expect(history.body.events.map((e: { type: string }) => e.type)).toEqual(expect.arrayContaining(['certificate-issued', 'secret-rotated', 'certificate-revoked']));
  });

  it('still admits a password device over the same TLS port', async () => {
    const { deviceId, secret } = await suite.platform.provision();
    const device = await TestDevice.connect(mqtts(), deviceId, secret, tls());
    try {
      await device.press({ seq: 1 });
      expect((await device.stage('received', 1)).vib).toBe('short');
    } finally {
      await device.close();
    }
    expect(await connackCode(mqtts(), { clientId: deviceId, username: deviceId, ...tls() })).toBe(NOT_AUTHORIZED); // no password, no certificate
  });

  it('answers a bad request with a 400 that says what to fix', async () => {
    const { deviceId } = await suite.platform.provision();
    const cases: Array<[unknown, RegExp]> = [
      [undefined, /csr must be a PEM certificate signing request/],
      [42, /csr must be a PEM certificate signing request/],
      ['not a csr', /not a PEM certificate signing request/],
      ['-----BEGIN CERTIFICATE REQUEST-----\nMIIB\n-----END CERTIFICATE REQUEST-----\n', /not a well-formed PKCS#10/],
      [deviceKeyAndCsr('btn-somebody-else').csr, new RegExp(`CN is not the device id: it must be exactly "${deviceId}"`)],
      [weakCsr(deviceId), /RSA 1024-bit key: use RSA 2048 to 4096 bits, or EC P-256 or P-384/],
      [forgedCsr(deviceId), /signature does not verify/],
      ['x'.repeat(20_000), /at most 16384 characters/],
    ];
    for (const [csr, message] of cases) {
      const res = await issue(deviceId, csr as string);
      expect([res.status, [res.body.message].flat().join('; ')]).toEqual([400, expect.stringMatching(message)]);
    }
    expect((await suite.platform.api().get(`/devices/${deviceId}`).expect(200)).body.certificate).toBeNull();
    await issue('btn-nobody-here', deviceKeyAndCsr('btn-nobody-here').csr).expect(404);
    await issue('no!', 'x').expect(400);
    const integration = await suite.platform.integrationToken('cic-antwerpen');
    await suite.platform.api(integration).post(`/devices/${deviceId}/certificate`, { csr: deviceKeyAndCsr(deviceId).csr }).expect(403);
  });
});

describe('device certificates without a device CA', () => {
  const suite = usePlatform();

  it('answers 503 saying what to set', async () => {
    const { deviceId } = await suite.platform.provision();
    const res = await suite.platform.api().post(`/devices/${deviceId}/certificate`, { csr: deviceKeyAndCsr(deviceId).csr }).expect(503);
    expect(res.body.message).toMatch(/set TLS_DEVICE_CA and TLS_DEVICE_CA_KEY/);
  });
});

function weakCsr(cn: string): string {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
  return certificationRequest(cn, privateKey, publicKey);
}

/** A request carrying one key, signed with another: no proof of possession. */
function forgedCsr(cn: string): string {
  const signer = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const carried = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  return certificationRequest(cn, signer.privateKey, carried.publicKey);
}
