import { createHash, randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

/**
 * CONTRACT §1: a device secret has at least 128 bits of randomness and is stored only as its
 * SHA-256 digest, `sha256$<64 hex digits>`. The secret's randomness protects it; a slow hash would
 * only turn every reconnect into CPU work.
 *
 * Version 1 stored `scrypt$N$r$p$salt$hash` (base64url). Such hashes are still verified, and
 * `needsUpgrade` tells the caller to replace them with the digest once the secret is known good.
 */
export type SecretScheme = 'sha256' | 'scrypt';

const DIGEST_PREFIX = 'sha256$';

/** Version 1 parameters, kept to write hashes the way version 1 did (migration tests). */
const SCRYPT = { N: 16384, r: 8, p: 1, keyLength: 32 } as const;

function scryptAsync(secret: string, salt: Buffer, keyLength: number, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(secret, salt, keyLength, options, (err, key) => (err ? reject(err) : resolve(key))),
  );
}

function sha256(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

/** A fresh secret: 192 random bits, base64url (32 characters). */
export function newSecret(): string {
  return randomBytes(24).toString('base64url');
}

/** CONTRACT §1: what is stored for a secret, `sha256$<hex>`. */
export function hashSecret(secret: string): string {
  return DIGEST_PREFIX + sha256(secret).toString('hex');
}

/** A version-1 hash, `scrypt$N$r$p$salt$hash` (about 60 ms of CPU). Only for tests and tooling. */
export async function hashSecretV1(secret: string): Promise<string> {
  const salt = randomBytes(16);
  const { N, r, p, keyLength } = SCRYPT;
  const key = await scryptAsync(secret, salt, keyLength, { N, r, p });
  return ['scrypt', N, r, p, salt.toString('base64url'), key.toString('base64url')].join('$');
}

/** Which scheme a stored hash uses (null: not one this platform writes or reads). */
export function secretScheme(stored: string): SecretScheme | null {
  if (stored.startsWith(DIGEST_PREFIX)) return 'sha256';
  if (stored.startsWith('scrypt$')) return 'scrypt';
  return null;
}

/** True when a stored hash should be replaced by `hashSecret(secret)` after a successful check. */
export function needsUpgrade(stored: string): boolean {
  return secretScheme(stored) !== 'sha256';
}

/**
 * The stored digest as bytes, SHA-256(secret): the key of the device's SMS MAC (CONTRACT §6), so
 * the platform checks an SMS without knowing the secret. Null for a version-1 (scrypt) hash, which
 * is replaced by the digest at the device's next MQTT connect.
 */
export function secretDigest(stored: string): Buffer | null {
  if (secretScheme(stored) !== 'sha256') return null;
  const hex = stored.slice(DIGEST_PREFIX.length);
  return /^[0-9a-f]{64}$/.test(hex) ? Buffer.from(hex, 'hex') : null;
}

/** Checks a secret against a digest (`sha256$…`) in constant time; false for any other scheme. Costs one SHA-256. */
export function verifyDigest(secret: string, stored: string): boolean {
  if (secretScheme(stored) !== 'sha256') return false;
  const hex = stored.slice(DIGEST_PREFIX.length);
  if (!/^[0-9a-f]{64}$/.test(hex)) return false;
  return timingSafeEqual(sha256(secret), Buffer.from(hex, 'hex'));
}

/** Checks a secret against a version-1 scrypt hash; false for any other scheme or a malformed hash. */
export async function verifyScrypt(secret: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, hash, ...rest] = stored.split('$');
  if (scheme !== 'scrypt' || !salt || !hash || rest.length > 0) return false;
  const expected = Buffer.from(hash, 'base64url');
  if (expected.length < 16) return false;
  try {
    const key = await scryptAsync(secret, Buffer.from(salt, 'base64url'), expected.length, {
      N: Number(n),
      r: Number(r),
      p: Number(p),
    });
    return timingSafeEqual(key, expected);
  } catch {
    return false; // parameters node refuses (e.g. N not a power of two): not a hash we wrote
  }
}

/** API bearer tokens: 256 random bits; stored as SHA-256 (they are looked up by hash). */
export function newToken(prefix: string): string {
  return `${prefix}_${randomBytes(32).toString('base64url')}`;
}

export function hashToken(token: string): string {
  return sha256(token).toString('hex');
}

export function sameToken(a: string, b: string): boolean {
  return timingSafeEqual(sha256(a), sha256(b));
}
