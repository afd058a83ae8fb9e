export {
  newSecret,
  hashSecret,
  hashSecretV1,
  secretScheme,
  needsUpgrade,
  verifyDigest,
  secretDigest,
  verifyScrypt,
  newToken,
  hashToken,
  sameToken,
  type SecretScheme,
} from './secrets.js';
export { addressKey } from './address-key.js';
export { checkCsr, CSR_KEYS, type CheckedCsr, type CsrCheck } from './device-csr.js';
export { loadDeviceCa, issueDeviceCertificate, certificateFingerprint, type DeviceCa, type IssuedCertificate } from './device-certificate.js';
