import { createPublicKey, verify, type KeyObject } from 'node:crypto';
import forge from 'node-forge';

const { asn1 } = forge;
type Asn1 = forge.asn1.Asn1;

/** A PKCS#10 request (RFC 2986) whose signature verified and whose key is within bounds. */
export interface CheckedCsr {
  /** The subject's one common name. */
  commonName: string;
  /** The key the certificate will certify (its SubjectPublicKeyInfo). */
  publicKey: KeyObject;
  /** E.g. `RSA 2048` or `EC P-256`. */
  keyDescription: string;
}

export type CsrCheck = { ok: true; csr: CheckedCsr } | { ok: false; error: string };

/** Keys a device may have certified: RSA of 2048 to 4096 bits, or ECDSA on P-256 or P-384. */
export const CSR_KEYS = 'RSA 2048 to 4096 bits, or EC P-256 or P-384';

/** Signature algorithms accepted on a CSR (its proof of possession of the key), by OID. */
const SIGNATURES: Record<string, { hash: string; key: 'rsa' | 'ec' }> = {
  '1.2.840.113549.1.1.11': { hash: 'sha256', key: 'rsa' },
  '1.2.840.113549.1.1.12': { hash: 'sha384', key: 'rsa' },
  '1.2.840.113549.1.1.13': { hash: 'sha512', key: 'rsa' },
  '1.2.840.10045.4.3.2': { hash: 'sha256', key: 'ec' },
  '1.2.840.10045.4.3.3': { hash: 'sha384', key: 'ec' },
  '1.2.840.10045.4.3.4': { hash: 'sha512', key: 'ec' },
};

const CURVES: Record<string, string> = { prime256v1: 'P-256', secp384r1: 'P-384' };
const COMMON_NAME = '2.5.4.3';
/** X.520 string types a CN may use here: UTF8String, PrintableString, IA5String. */
const STRING_TYPES = new Set<number>([asn1.Type.UTF8, asn1.Type.PRINTABLESTRING, asn1.Type.IA5STRING]);

/**
 * Reads a PEM certificate signing request and checks what a device certificate needs: one request,
 * well-formed DER, signed with the key it carries (SHA-256 or stronger), a key within CSR_KEYS and
 * exactly one subject CN. Pure: the caller decides what the CN must be. Errors are sentences a
 * person can act on, and never quote the input.
 */
export function checkCsr(pem: string): CsrCheck {
  const der = pemBody(pem);
  if (der === undefined) return fail('csr is not a PEM certificate signing request (-----BEGIN CERTIFICATE REQUEST----- … -----END CERTIFICATE REQUEST-----)');
  let parts: { info: Asn1; algorithm: string; signature: Buffer; spki: Asn1; subject: Asn1 };
  try {
    parts = structure(fromDer(der, { strict: true, parseAllBytes: true, decodeBitStrings: false }));
  } catch {
    return fail('csr is not a well-formed PKCS#10 certificate signing request (DER)');
  }
  const algorithm = SIGNATURES[parts.algorithm];
  if (!algorithm) return fail('csr is signed with an algorithm not accepted here: sign it with SHA-256 (RSA or ECDSA) or stronger');

  let publicKey: KeyObject;
  try {
    publicKey = createPublicKey({ key: derBuffer(parts.spki), format: 'der', type: 'spki' });
  } catch {
    return fail(`csr carries a public key that cannot be read: use ${CSR_KEYS}`);
  }
  const keyDescription = describeKey(publicKey);
  if (keyDescription === undefined) return fail(`csr carries a ${describeAnyKey(publicKey)} key: use ${CSR_KEYS}`);
  if (publicKey.asymmetricKeyType !== algorithm.key) return fail('csr is signed with an algorithm that does not fit its key');

  let verified = false;
  try {
    verified = verify(algorithm.hash, derBuffer(parts.info), algorithm.key === 'ec' ? { key: publicKey, dsaEncoding: 'der' } : publicKey, parts.signature);
  } catch {
    verified = false;
  }
  if (!verified) return fail('csr signature does not verify: sign the request with the private key whose public key it carries');

  const names = commonNames(parts.subject);
  if (names === undefined || names.length !== 1) return fail('csr subject must hold exactly one CN, the device id (e.g. /CN=btn-4f2a9c)');
  return { ok: true, csr: { commonName: names[0]!, publicKey, keyDescription } };
}

function fail(error: string): CsrCheck {
  return { ok: false, error };
}

/** The DER bytes (as forge's binary string) of the one PEM block, if it is a certificate request. */
function pemBody(pem: string): string | undefined {
  try {
    const messages = forge.pem.decode(pem);
    if (messages.length !== 1) return undefined;
    const [message] = messages;
    if (message!.type !== 'CERTIFICATE REQUEST' && message!.type !== 'NEW CERTIFICATE REQUEST') return undefined;
    if (message!.procType?.type === 'ENCRYPTED') return undefined;
    return message!.body;
  } catch {
    return undefined;
  }
}

/**
 * RFC 2986 §4: CertificationRequest ::= SEQUENCE { certificationRequestInfo, signatureAlgorithm,
 * signature BIT STRING }; CertificationRequestInfo ::= SEQUENCE { version INTEGER (0), subject Name,
 * subjectPKInfo, attributes [0] }. Throws on anything else.
 */
function structure(root: Asn1) {
  const [info, algorithmId, signatureBits] = children(root, 3, asn1.Type.SEQUENCE);
  const [version, subject, spki] = children(info!, 4, asn1.Type.SEQUENCE);
  if (version!.type !== asn1.Type.INTEGER || asn1.derToInteger(version!.value as string) !== 0) throw new Error('version');
  if (subject!.type !== asn1.Type.SEQUENCE || spki!.type !== asn1.Type.SEQUENCE) throw new Error('subject');
  const [oid] = children(algorithmId!, undefined, asn1.Type.SEQUENCE);
  if (oid?.type !== asn1.Type.OID) throw new Error('algorithm');
  if (signatureBits!.type !== asn1.Type.BITSTRING || typeof signatureBits!.value !== 'string') throw new Error('signature');
  const bits = Buffer.from(signatureBits!.value, 'binary');
  if (bits.length < 2 || bits[0] !== 0) throw new Error('signature padding');
  return { info: info!, algorithm: asn1.derToOid(oid.value as string), signature: bits.subarray(1), spki: spki!, subject: subject! };
}

function children(node: Asn1, count: number | undefined, type: number): Asn1[] {
  if (node.tagClass !== asn1.Class.UNIVERSAL || node.type !== type || !Array.isArray(node.value)) throw new Error('not a sequence');
  if (count !== undefined && node.value.length !== count) throw new Error('length');
  return node.value;
}

/** The subject's CN values; undefined when one is not a plain string type. */
function commonNames(subject: Asn1): string[] | undefined {
  const names: string[] = [];
  for (const set of subject.value as Asn1[]) {
    if (!Array.isArray(set.value)) return undefined;
    for (const attribute of set.value) {
      const [oid, value] = Array.isArray(attribute.value) ? attribute.value : [];
      if (oid?.type !== asn1.Type.OID || asn1.derToOid(oid.value as string) !== COMMON_NAME) continue;
      if (!value || !STRING_TYPES.has(value.type) || typeof value.value !== 'string') return undefined;
      names.push(Buffer.from(value.value, 'binary').toString('utf8'));
    }
  }
  return names;
}

function describeKey(key: KeyObject): string | undefined {
  const details = key.asymmetricKeyDetails ?? {};
  if (key.asymmetricKeyType === 'rsa') {
    const bits = details.modulusLength ?? 0;
    return bits >= 2048 && bits <= 4096 ? `RSA ${bits}` : undefined;
  }
  if (key.asymmetricKeyType === 'ec') {
    const curve = CURVES[details.namedCurve ?? ''];
    return curve ? `EC ${curve}` : undefined;
  }
  return undefined;
}

function describeAnyKey(key: KeyObject): string {
  const details = key.asymmetricKeyDetails ?? {};
  if (details.modulusLength) return `${key.asymmetricKeyType?.toUpperCase()} ${details.modulusLength}-bit`;
  if (details.namedCurve) return `EC ${details.namedCurve}`;
  return String(key.asymmetricKeyType ?? 'unknown');
}

/**
 * Strict DER, every byte used, BIT STRINGs kept as bytes (forge would otherwise try to read them
 * as ASN.1, and re-encode them differently). The typings know only the boolean form.
 */
const fromDer = asn1.fromDer as unknown as (der: string, options: { strict: boolean; parseAllBytes: boolean; decodeBitStrings: boolean }) => Asn1;

export function derBuffer(node: Asn1): Buffer {
  return Buffer.from(asn1.toDer(node).getBytes(), 'binary');
}
