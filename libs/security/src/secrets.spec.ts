import { createHash } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { hashSecret, hashSecretV1, needsUpgrade, newSecret, secretScheme, verifyDigest, verifyScrypt } from './secrets.js';

describe(hashSecret.name, () => {
  it('stores a secret as its SHA-256 digest, self-describing (CONTRACT §1)', () => {
    const secret = newSecret();
    const stored = hashSecret(secret);
    expect(stored).toBe(`sha256$${createHash('sha256').update(secret).digest('hex')}`);
    expect(stored).not.toContain(secret);
    expect(secretScheme(stored)).toBe('sha256');
    expect(needsUpgrade(stored)).toBe(false);
  });

  it('issues secrets with at least 128 random bits, never the same twice', () => {
    const secrets = new Set(Array.from({ length: 1000 }, newSecret));
    expect(secrets.size).toBe(1000);
    for (const s of secrets) expect(Buffer.from(s, 'base64url').length * 8).toBeGreaterThanOrEqual(128);
  });
});

describe(verifyDigest.name, () => {
  const secret = newSecret();
  const stored = hashSecret(secret);

  it('accepts the secret and refuses anything else', () => {
    expect(verifyDigest(secret, stored)).toBe(true);
    expect(verifyDigest(`${secret}x`, stored)).toBe(false);
    expect(verifyDigest('', stored)).toBe(false);
  });

  it.each([
    ['a truncated digest', stored.slice(0, -2)],
    ['upper-case or non-hex digits', stored.toUpperCase().replace('SHA256', 'sha256')],
    ['a digest without its scheme', stored.slice('sha256$'.length)],
    ['an empty string', ''],
  ])('refuses %s', (_name, bad) => {
    expect(verifyDigest(secret, bad)).toBe(false);
  });
});

describe('version-1 scrypt hashes', () => {
  it('are still verified, and need an upgrade to the digest', async () => {
    const secret = newSecret();
    const v1 = await hashSecretV1(secret);
    expect(v1).toMatch(/^scrypt\$16384\$8\$1\$[\w-]+\$[\w-]+$/);
    expect(secretScheme(v1)).toBe('scrypt');
    expect(needsUpgrade(v1)).toBe(true);
    expect(await verifyScrypt(secret, v1)).toBe(true);
    expect(await verifyScrypt(`${secret}x`, v1)).toBe(false);
    // the cheap check never accepts a scrypt hash
    expect(verifyDigest(secret, v1)).toBe(false);
  });

  it.each([
    ['missing fields', 'scrypt$16384$8$1$c2FsdA'],
    ['extra fields', 'scrypt$16384$8$1$c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2g$x'],
    ['parameters node refuses', 'scrypt$1000$8$1$c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2g'],
    ['a short key', 'scrypt$16384$8$1$c2FsdA$aGFzaA'],
  ])('refuse a malformed hash (%s) without throwing', async (_name, bad) => {
    await expect(verifyScrypt('secret', bad)).resolves.toBe(false);
  });
});

describe(secretScheme.name, () => {
  it('knows the digest and version 1, and nothing else', async () => {
    const secret = newSecret();
    expect(secretScheme(hashSecret(secret))).toBe('sha256');
    expect(await verifyScrypt(secret, hashSecret(secret))).toBe(false);
    expect(secretScheme(secret)).toBeNull();
    expect(secretScheme('bcrypt$whatever')).toBeNull();
    expect(needsUpgrade('bcrypt$whatever')).toBe(true);
  });
});
