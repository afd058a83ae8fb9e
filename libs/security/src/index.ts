export {
  newSecret,
  hashSecret,
  hashSecretV1,
  secretScheme,
  needsUpgrade,
  verifyDigest,
  secretDigest,
  verifyScrypt,
  verifySecret,
  newToken,
  hashToken,
  sameToken,
  type SecretScheme,
} from './secrets.js';
export { addressKey } from './address-key.js';
