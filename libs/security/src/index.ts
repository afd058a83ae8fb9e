export {
  newSecret,
  hashSecret,
  hashSecretV1,
  secretScheme,
  needsUpgrade,
  verifyDigest,
  verifyScrypt,
  verifySecret,
  newToken,
  hashToken,
  sameToken,
  type SecretScheme,
} from './secrets.js';
