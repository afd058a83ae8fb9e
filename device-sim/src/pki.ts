/**
 * X.509 material for simulated buttons with certificates (--mtls): each button's key and
 * certificate signing request (PKCS#10, RFC 2986), and — for a platform the simulator starts — a
 * throwaway device CA and a self-signed server certificate, made at run time and never kept.
 */
import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import forge from 'node-forge';

const { asn1 } = forge;
type Asn1 = forge.asn1.Asn1;

/** A certificate and its private key, PEM. */
export interface PemPair {
  cert: string;
  key: string;
}

/** A button's private key (PKCS#8 PEM) and its certificate signing request (PEM). */
export interface DeviceKey {
  key: string;
  csr: string;
}

/**
 * A new key and a CSR with subject CN = the device id, signed with that key (its proof of
 * possession). EC P-256 by default, as a modem's secure element holds; RSA 2048 on request.
 */
export function deviceKeyAndCsr(deviceId: string, type: 'ec' | 'rsa' = 'ec'): DeviceKey {
  const { privateKey, publicKey } =
    type === 'ec' ? generateKeyPairSync('ec', { namedCurve: 'prime256v1' }) : generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { key: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(), csr: certificationRequest(deviceId, privateKey, publicKey) };
}

/** RFC 2986 §4: CertificationRequest { info { version 0, subject, subjectPKInfo, attributes [0] {} }, algorithm, signature }. */
export function certificationRequest(commonName: string, privateKey: KeyObject, publicKey: KeyObject): string {
  const ec = privateKey.asymmetricKeyType === 'ec';
  const info = seq([
    node(asn1.Type.INTEGER, false, '\0'),
    seq([node(asn1.Type.SET, true, [seq([oid('2.5.4.3'), node(asn1.Type.UTF8, false, forge.util.encodeUtf8(commonName))])])]),
    asn1.fromDer(publicKey.export({ format: 'der', type: 'spki' }).toString('binary')),
    asn1.create(asn1.Class.CONTEXT_SPECIFIC, 0, true, []),
  ]);
  const signature = sign('sha256', der(info), ec ? { key: privateKey, dsaEncoding: 'der' } : privateKey);
  // ecdsa-with-SHA256 (RFC 5758), sha256WithRSAEncryption (RFC 4055)
  const algorithm = ec ? seq([oid('1.2.840.10045.4.3.2')]) : seq([oid('1.2.840.113549.1.1.11'), node(asn1.Type.NULL, false, '')]);
  const request = der(seq([info, algorithm, node(asn1.Type.BITSTRING, false, '\0' + signature.toString('binary'))]));
  return `-----BEGIN CERTIFICATE REQUEST-----\n${request.toString('base64').replace(/.{1,64}/g, '$&\n')}-----END CERTIFICATE REQUEST-----\n`;
}

/** A self-signed CA (RSA 2048, 10 years): the platform's TLS_DEVICE_CA and TLS_DEVICE_CA_KEY. */
export function createDeviceCa(commonName = 'AMR device CA (simulator)'): PemPair {
  const keys = rsaKeys();
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = serialNumber();
  cert.validity.notBefore = new Date(Date.now() - 60_000);
  cert.validity.notAfter = new Date(Date.now() + 10 * 365 * 86_400_000);
  const name = [{ shortName: 'CN', value: commonName }];
  cert.setSubject(name);
  cert.setIssuer(name);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  cert.sign(keys.privateKey, forge.md.sha256.create());
  return { cert: forge.pki.certificateToPem(cert), key: forge.pki.privateKeyToPem(keys.privateKey) };
}

/** A self-signed server certificate for `localhost` and 127.0.0.1 (the broker's TLS_CERT and TLS_KEY). */
export function createServerCertificate(): PemPair {
  const keys = rsaKeys();
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = serialNumber();
  cert.validity.notBefore = new Date(Date.now() - 60_000);
  cert.validity.notAfter = new Date(Date.now() + 365 * 86_400_000);
  const name = [{ shortName: 'CN', value: 'localhost' }];
  cert.setSubject(name);
  cert.setIssuer(name);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
    { name: 'extKeyUsage', serverAuth: true },
    { name: 'subjectAltName', altNames: [{ type: 2, value: 'localhost' }, { type: 7, ip: '127.0.0.1' }] },
  ]);
  cert.sign(keys.privateKey, forge.md.sha256.create());
  return { cert: forge.pki.certificateToPem(cert), key: forge.pki.privateKeyToPem(keys.privateKey) };
}

/** An RSA key pair made natively (forge's own generator takes seconds), as forge keys. */
function rsaKeys(): { privateKey: forge.pki.rsa.PrivateKey; publicKey: forge.pki.rsa.PublicKey } {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    privateKey: forge.pki.privateKeyFromPem(privateKey.export({ format: 'pem', type: 'pkcs1' }).toString()) as forge.pki.rsa.PrivateKey,
    publicKey: forge.pki.publicKeyFromPem(publicKey.export({ format: 'pem', type: 'spki' }).toString()) as forge.pki.rsa.PublicKey,
  };
}

/** 16 random bytes, positive, hex. */
function serialNumber(): string {
  const bytes = forge.util.bytesToHex(forge.random.getBytesSync(16));
  return `4${bytes.slice(1)}`;
}

function node(type: number, constructed: boolean, value: string | Asn1[]): Asn1 {
  return asn1.create(asn1.Class.UNIVERSAL, type, constructed, value);
}

function seq(value: Asn1[]): Asn1 {
  return node(asn1.Type.SEQUENCE, true, value);
}

function oid(id: string): Asn1 {
  return node(asn1.Type.OID, false, asn1.oidToDer(id).getBytes());
}

function der(value: Asn1): Buffer {
  return Buffer.from(asn1.toDer(value).getBytes(), 'binary');
}
