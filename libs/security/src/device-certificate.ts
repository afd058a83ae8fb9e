import { X509Certificate, createHash, createPrivateKey, randomBytes, sign, type KeyObject } from 'node:crypto';
import forge from 'node-forge';
import { derBuffer } from './device-csr.js';

const { asn1 } = forge;
type Asn1 = forge.asn1.Asn1;

/** The platform's device CA: its certificate, and its private key when this process signs. */
export interface DeviceCa {
  certificate: X509Certificate;
  key: KeyObject;
}

/** A certificate issued to a device. */
export interface IssuedCertificate {
  /** PEM. */
  certificate: string;
  /** Serial number, lowercase hex. */
  serial: string;
  /** SHA-256 of the DER certificate, lowercase hex: what the broker compares. */
  fingerprint: string;
  notBefore: Date;
  notAfter: Date;
}

/** Clock skew tolerated between the platform and a device checking its own certificate. */
const BACKDATE_MS = 5 * 60_000;

/**
 * Reads the device CA's certificate and key (PEM). Throws a sentence naming what is wrong: not a
 * CA certificate, a key that is not the certificate's, a key type it cannot sign with.
 */
export function loadDeviceCa(certificatePem: string | Buffer, keyPem: string | Buffer): DeviceCa {
  const certificate = new X509Certificate(certificatePem);
  if (!certificate.ca) throw new Error('the certificate is not a CA certificate (basicConstraints CA:TRUE)');
  const key = createPrivateKey(keyPem);
  if (!certificate.checkPrivateKey(key)) throw new Error('the key is not the CA certificate\'s key');
  signatureOf(key); // throws for a key type it cannot sign with
  return { certificate, key };
}

/** SHA-256 of a certificate's DER bytes, lowercase hex (the stored binding, CONTRACT §1 certificates). */
export function certificateFingerprint(der: Buffer): string {
  return createHash('sha256').update(der).digest('hex');
}

/**
 * Issues an X.509 v3 client certificate (RFC 5280) for `publicKey` with subject CN = `deviceId`,
 * signed by the device CA: not a CA, digital signature only (plus key encipherment for RSA), for
 * TLS client authentication. Valid from a few minutes ago for `validityDays`, never past the CA's
 * own end. The subject is the device id alone: nothing else from the request is copied.
 */
export function issueDeviceCertificate(ca: DeviceCa, deviceId: string, publicKey: KeyObject, validityDays: number, now = new Date()): IssuedCertificate {
  const notBefore = new Date(Math.max(now.getTime() - BACKDATE_MS, Date.parse(ca.certificate.validFrom)));
  const notAfter = new Date(Math.min(now.getTime() + validityDays * 86_400_000, Date.parse(ca.certificate.validTo)));
  if (notAfter <= now) throw new Error('the device CA certificate has expired: create a new device CA');
  const serial = newSerial();
  const algorithm = signatureOf(ca.key);
  const spki = asn1.fromDer(publicKey.export({ format: 'der', type: 'spki' }).toString('binary'));
  const tbs = seq([
    node(asn1.Class.CONTEXT_SPECIFIC, 0, true, [int(Buffer.of(2))]), // v3
    int(serial),
    algorithm.identifier(),
    issuerName(ca.certificate),
    seq([time(notBefore), time(notAfter)]),
    seq([set([seq([oid('2.5.4.3'), node(asn1.Class.UNIVERSAL, asn1.Type.UTF8, false, forge.util.encodeUtf8(deviceId))])])]),
    spki,
    extensions(publicKey.asymmetricKeyType === 'rsa'),
  ]);
  const signature = sign(algorithm.hash, derBuffer(tbs), algorithm.hash ? { key: ca.key, dsaEncoding: 'der' } : ca.key);
  const der = derBuffer(seq([tbs, algorithm.identifier(), node(asn1.Class.UNIVERSAL, asn1.Type.BITSTRING, false, '\0' + signature.toString('binary'))]));
  const pem = `-----BEGIN CERTIFICATE-----\n${der.toString('base64').replace(/.{1,64}/g, '$&\n')}-----END CERTIFICATE-----\n`;
  return { certificate: pem, serial: serial.toString('hex'), fingerprint: certificateFingerprint(der), notBefore, notAfter };
}

/** The CA key's signature algorithm: its hash (null for Ed25519) and its AlgorithmIdentifier. */
function signatureOf(key: KeyObject): { hash: string | null; identifier: () => Asn1 } {
  switch (key.asymmetricKeyType) {
    case 'rsa':
      // sha256WithRSAEncryption, parameters NULL (RFC 4055 §5)
      return { hash: 'sha256', identifier: () => seq([oid('1.2.840.113549.1.1.11'), node(asn1.Class.UNIVERSAL, asn1.Type.NULL, false, '')]) };
    case 'ec': {
      const p384 = key.asymmetricKeyDetails?.namedCurve === 'secp384r1';
      // ecdsa-with-SHA256 / SHA384, parameters absent (RFC 5758 §3.2)
      return { hash: p384 ? 'sha384' : 'sha256', identifier: () => seq([oid(p384 ? '1.2.840.10045.4.3.3' : '1.2.840.10045.4.3.2')]) };
    }
    case 'ed25519':
      return { hash: null, identifier: () => seq([oid('1.3.101.112')]) }; // RFC 8410
    default:
      throw new Error(`the CA key is ${key.asymmetricKeyType}: use an RSA, EC or Ed25519 key`);
  }
}

/** The CA certificate's subject, byte for byte: what chain building matches the issuer against. */
function issuerName(ca: X509Certificate): Asn1 {
  const tbs = (asn1.fromDer(ca.raw.toString('binary')).value as Asn1[])[0]!;
  const fields = tbs.value as Asn1[];
  const explicitVersion = fields[0]!.tagClass === asn1.Class.CONTEXT_SPECIFIC ? 1 : 0;
  return fields[4 + explicitVersion]!;
}

function extensions(rsa: boolean): Asn1 {
  const holder = forge.pki.createCertificate();
  holder.setExtensions([
    { name: 'basicConstraints', cA: false, critical: true },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: rsa, critical: true },
    { name: 'extKeyUsage', clientAuth: true },
  ]);
  // exported by forge, missing from its typings
  const toAsn1 = (forge.pki as unknown as { certificateExtensionsToAsn1: (extensions: unknown[]) => Asn1 }).certificateExtensionsToAsn1;
  return toAsn1(holder.extensions);
}

/** 128 random bits, positive and without a leading zero byte (RFC 5280 §4.1.2.2: at most 20 octets). */
function newSerial(): Buffer {
  const serial = randomBytes(16);
  serial[0] = (serial[0]! & 0x7f) | 0x40;
  return serial;
}

function node(tagClass: forge.asn1.Class, type: number, constructed: boolean, value: string | Asn1[]): Asn1 {
  return asn1.create(tagClass, type, constructed, value);
}

function seq(value: Asn1[]): Asn1 {
  return node(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, value);
}

function set(value: Asn1[]): Asn1 {
  return node(asn1.Class.UNIVERSAL, asn1.Type.SET, true, value);
}

function oid(id: string): Asn1 {
  return node(asn1.Class.UNIVERSAL, asn1.Type.OID, false, asn1.oidToDer(id).getBytes());
}

function int(bytes: Buffer): Asn1 {
  return node(asn1.Class.UNIVERSAL, asn1.Type.INTEGER, false, bytes.toString('binary'));
}

/** RFC 5280 §4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050. */
function time(date: Date): Asn1 {
  return date.getUTCFullYear() < 2050
    ? node(asn1.Class.UNIVERSAL, asn1.Type.UTCTIME, false, asn1.dateToUtcTime(date))
    : node(asn1.Class.UNIVERSAL, asn1.Type.GENERALIZEDTIME, false, asn1.dateToGeneralizedTime(date));
}
