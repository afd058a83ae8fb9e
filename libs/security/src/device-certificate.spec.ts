import { X509Certificate, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import forge from 'node-forge';
import { certificationRequest, createDeviceCa, deviceKeyAndCsr } from '../../../device-sim/src/pki.js';
import { checkCsr } from './device-csr.js';
import { certificateFingerprint, issueDeviceCertificate, loadDeviceCa } from './device-certificate.js';

/** A CSR made by node-forge (an independent producer), RSA, with the given subject. */
function forgeCsr(subject: forge.pki.CertificateField[], bits = 2048, digest: 'sha256' | 'sha1' = 'sha256'): string {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: bits });
  const csr = forge.pki.createCertificationRequest();
  csr.publicKey = forge.pki.publicKeyFromPem(publicKey.export({ format: 'pem', type: 'spki' }).toString());
  csr.setSubject(subject);
  csr.sign(forge.pki.privateKeyFromPem(privateKey.export({ format: 'pem', type: 'pkcs1' }).toString()) as forge.pki.rsa.PrivateKey, forge.md[digest].create());
  return forge.pki.certificationRequestToPem(csr);
}

const error = (pem: string) => {
  const result = checkCsr(pem);
  return result.ok ? undefined : result.error;
};

describe(checkCsr.name, () => {
  it('reads the CN and key of an RSA 2048 request signed with SHA-256', () => {
    const result = checkCsr(forgeCsr([{ shortName: 'CN', value: 'btn-0001' }, { shortName: 'O', value: 'AMR' }]));
    expect(result).toMatchObject({ ok: true, csr: { commonName: 'btn-0001', keyDescription: 'RSA 2048' } });
  });

  it('reads an EC P-256 request signed with ECDSA', () => {
    const result = checkCsr(deviceKeyAndCsr('btn-ec-1').csr);
    expect(result).toMatchObject({ ok: true, csr: { commonName: 'btn-ec-1', keyDescription: 'EC P-256' } });
  });

  it('refuses what is not a PEM request, naming the expected form', () => {
    for (const input of ['', 'hello', '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n']) {
      expect(error(input)).toMatch(/not a PEM certificate signing request/);
    }
    expect(error('-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n')).toMatch(/not a well-formed PKCS#10/);
  });

  it('refuses a request whose signature does not verify (someone else\'s key)', () => {
    const a = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const b = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    expect(error(certificationRequest('btn-0001', a.privateKey, b.publicKey))).toMatch(/signature does not verify/);
  });

  it('bounds the key: RSA under 2048 bits and other curves are refused', () => {
    expect(error(forgeCsr([{ shortName: 'CN', value: 'btn-0001' }], 1024))).toMatch(/RSA 1024-bit key: use RSA 2048 to 4096 bits, or EC P-256 or P-384/);
    const k1 = generateKeyPairSync('ec', { namedCurve: 'secp256k1' });
    expect(error(certificationRequest('btn-0001', k1.privateKey, k1.publicKey))).toMatch(/EC secp256k1 key/);
  });

  it('refuses SHA-1 signatures', () => {
    expect(error(forgeCsr([{ shortName: 'CN', value: 'btn-0001' }], 2048, 'sha1'))).toMatch(/SHA-256/);
  });

  it('needs exactly one CN', () => {
    expect(error(forgeCsr([{ shortName: 'O', value: 'AMR' }]))).toMatch(/exactly one CN/);
    expect(error(forgeCsr([{ shortName: 'CN', value: 'btn-a' }, { shortName: 'CN', value: 'btn-b' }]))).toMatch(/exactly one CN/);
  });
});

describe(issueDeviceCertificate.name, () => {
  const caPem = createDeviceCa();
  const ca = loadDeviceCa(caPem.cert, caPem.key);

  it('issues a client certificate for the device id that chains to the CA', () => {
    const { csr } = deviceKeyAndCsr('btn-0001');
    const checked = checkCsr(csr);
    if (!checked.ok) throw new Error(checked.error);
    const now = new Date('2027-01-01T00:00:00Z');
    const issued = issueDeviceCertificate(ca, 'btn-0001', checked.csr.publicKey, 730, now);
    const cert = new X509Certificate(issued.certificate);
    expect(cert.subject).toBe('CN=btn-0001');
    expect(cert.checkIssued(ca.certificate)).toBe(true);
    expect(cert.verify(ca.certificate.publicKey)).toBe(true);
    expect(cert.ca).toBe(false);
    expect(cert.keyUsage).toEqual(['1.3.6.1.5.5.7.3.2']); // extKeyUsage clientAuth
    expect(cert.serialNumber.toLowerCase()).toBe(issued.serial);
    expect(issued.fingerprint).toBe(certificateFingerprint(cert.raw));
    expect(issued.notAfter.toISOString()).toBe('2028-12-31T00:00:00.000Z');
    expect(cert.publicKey.export({ format: 'der', type: 'spki' })).toEqual(checked.csr.publicKey.export({ format: 'der', type: 'spki' }));
  });

  it('never issues past the end of the CA certificate', () => {
    const key = createPublicKey(deviceKeyAndCsr('btn-0002').key);
    const issued = issueDeviceCertificate(ca, 'btn-0002', key, 100 * 365);
    expect(issued.notAfter.getTime()).toBe(Date.parse(ca.certificate.validTo));
  });

  it('gives every certificate its own serial', () => {
    const key = createPublicKey(deviceKeyAndCsr('btn-0003').key);
    const serials = new Set(Array.from({ length: 20 }, () => issueDeviceCertificate(ca, 'btn-0003', key, 1).serial));
    expect(serials.size).toBe(20);
  });

  it('refuses a CA whose key is not its own, or a certificate that is not a CA', () => {
    expect(() => loadDeviceCa(caPem.cert, createDeviceCa().key)).toThrow(/not the CA certificate's key/);
    const leaf = issueDeviceCertificate(ca, 'btn-0004', createPublicKey(deviceKeyAndCsr('btn-0004').key), 1);
    expect(() => loadDeviceCa(leaf.certificate, caPem.key)).toThrow(/not a CA certificate/);
  });
});
