import { beforeAll, describe, expect, it } from '@jest/globals';
import type { Client } from 'aedes';
import { loadConfig } from '@amr/config';
import { Metrics } from '@amr/runtime';
import { certificateFingerprint, hashSecret, hashSecretV1, newSecret } from '@amr/security';
import { AuthThrottle } from './auth-throttle.js';
import { DeviceAuthenticator } from './device-authenticator.js';
import type { DeviceCredentials, StoredCredentials } from './device-credentials.js';

const NOT_AUTHORIZED = 5;
const SERVER_UNAVAILABLE = 3;

/** A fleet in memory: what DeviceCredentials would read, and the upgrades written. */
class Fleet {
  readonly devices = new Map<string, StoredCredentials>();
  readonly upgrades: { id: string; from: string; to: string }[] = [];

  add(id: string, secretHash: string, active = true, certFingerprint: string | null = null): void {
    this.devices.set(id, { id, secretHash, active, certFingerprint });
  }

  get credentials(): DeviceCredentials {
    return {
      find: async (id: string) => this.devices.get(id),
      upgrade: async (id: string, from: string, to: string) => {
        this.upgrades.push({ id, from, to });
      },
    } as unknown as DeviceCredentials;
  }
}

describe(DeviceAuthenticator.name, () => {
  const config = loadConfig({ AMR_AUTH_MAX_FAILURES: '2', AMR_AUTH_MAX_BACKOFF_S: '60' });
  const digestSecret = newSecret();
  const legacySecret = newSecret();
  let legacyHash: string;

  beforeAll(async () => {
    legacyHash = await hashSecretV1(legacySecret);
  });

  function setup() {
    const fleet = new Fleet();
    fleet.add('btn-digest', hashSecret(digestSecret));
    fleet.add('btn-legacy', legacyHash);
    const metrics = new Metrics({ processMetrics: false });
    const auth = new DeviceAuthenticator(config, fleet.credentials, new AuthThrottle(config), metrics);
    /** Resolves with 0 (accepted) or the CONNACK return code. */
    const connect = (id: string, secret: string, address = '192.0.2.10') =>
      new Promise<number>((resolve) => {
        const client = { id, conn: { remoteAddress: address } } as unknown as Client;
        auth.authenticate(client, id, Buffer.from(secret), (err) => resolve(err ? err.returnCode : 0));
      });
    const refused = (reason: string) => metrics.total('amr_mqtt_connect_refused_total', { reason });
    const lookups = async () => (await metrics.connectStep.get()).values.find((v) => v.metricName === 'amr_mqtt_connect_step_seconds_count' && v.labels.step === 'credentials')?.value ?? 0;
    return { fleet, auth, connect, refused, lookups };
  }

  it('times each lookup of a device\'s credentials, not the connections refused before one', async () => {
    const { connect, lookups } = setup();
    expect(await connect('btn-digest', digestSecret)).toBe(0);
    expect(await connect('btn-unknown', digestSecret)).toBe(NOT_AUTHORIZED);
    expect(await connect('not a device id', digestSecret)).toBe(NOT_AUTHORIZED);
    expect(await lookups()).toBe(2);
  });

  it('accepts the right secret against the digest and refuses a wrong one', async () => {
    const { connect, refused } = setup();
    expect(await connect('btn-digest', digestSecret)).toBe(0);
    expect(await connect('btn-digest', 'wrong')).toBe(NOT_AUTHORIZED);
    expect(await connect('btn-nobody', digestSecret)).toBe(NOT_AUTHORIZED);
    expect(await refused('bad-secret')).toBe(1);
    expect(await refused('unknown-device')).toBe(1);
  });

  it('accepts a version-1 hash and replaces it with the digest, only if it is still the one checked', async () => {
    const { connect, fleet } = setup();
    expect(await connect('btn-legacy', legacySecret)).toBe(0);
    expect(fleet.upgrades).toEqual([{ id: 'btn-legacy', from: legacyHash, to: hashSecret(legacySecret) }]);
  });

  it('during a back-off, lets the right digest secret in and checks no version-1 hash', async () => {
    const { connect, fleet, refused } = setup();
    expect(await connect('btn-digest', 'guess-1')).toBe(NOT_AUTHORIZED);
    expect(await connect('btn-nobody', 'guess-2')).toBe(NOT_AUTHORIZED);
    expect(await refused('throttled')).toBe(0);

    expect(await connect('btn-digest', 'guess-3')).toBe(NOT_AUTHORIZED);
    expect(await connect('btn-digest', digestSecret)).toBe(0);
    expect(await connect('btn-legacy', legacySecret)).toBe(SERVER_UNAVAILABLE);
    expect(fleet.upgrades).toEqual([]);
    expect(await refused('throttled')).toBe(2);

    // Another address is not affected.
    expect(await connect('btn-legacy', legacySecret, '::ffff:198.51.100.4')).toBe(0);
  });

  it('runs a bounded number of scrypt checks: beyond its queue a version-1 device is asked to come back', async () => {
    const { connect, refused } = setup();
    /** Who was answered, in the order of the answers. */
    const answered: string[] = [];
    const legacy = Promise.all(
      Array.from({ length: 40 }, (_, i) => connect('btn-legacy', legacySecret, `10.0.0.${i + 1}`).then((code) => (answered.push(`legacy ${code}`), code))),
    );
    // Meanwhile a digest device is answered at once: before any version-1 device a scrypt check let in.
    expect(await connect('btn-digest', digestSecret, '10.0.1.1').then((code) => (answered.push('digest'), code))).toBe(0);
    const codes = await legacy;
    expect(answered.indexOf('digest')).toBeLessThan(answered.indexOf('legacy 0'));
    const busy = codes.filter((c) => c === SERVER_UNAVAILABLE).length;
    expect(busy).toBeGreaterThan(0);
    expect(codes.filter((c) => c === 0)).toHaveLength(40 - busy);
    expect(await refused('busy')).toBe(busy);
  });

  it('refuses clientId ≠ username and anonymous clients without counting them against the address', async () => {
    const { auth, connect } = setup();
    const done = (resolve: (code: number) => void) => (err: { returnCode: number } | null) => resolve(err ? err.returnCode : 0);
    const client = { id: 'btn-other', conn: { remoteAddress: '192.0.2.10' } } as unknown as Client;
    for (let i = 0; i < 3; i++) {
      expect(await new Promise<number>((r) => auth.authenticate(client, 'btn-digest', Buffer.from(digestSecret), done(r)))).toBe(NOT_AUTHORIZED);
      expect(await new Promise<number>((r) => auth.authenticate(client, undefined, undefined, done(r)))).toBe(NOT_AUTHORIZED);
    }
    expect(await connect('btn-legacy', legacySecret)).toBe(0);
  });

  describe('client certificates', () => {
    const der = Buffer.from('a certificate of btn-cert');
    const fingerprint = certificateFingerprint(der);

    /** A TLS connection that presented a certificate with the given CN; `trusted`: it chains to the device CA. */
    const tlsConn = (cn: string | undefined, trusted: boolean, raw = der) => ({
      remoteAddress: '192.0.2.20',
      authorized: trusted,
      getPeerCertificate: () => ({ raw, subject: cn === undefined ? {} : { CN: cn } }),
    });

    function withCertificates() {
      const context = setup();
      context.fleet.add('btn-cert', hashSecret(digestSecret), true, fingerprint);
      context.fleet.add('btn-off', hashSecret(digestSecret), false, fingerprint);
      const connect = (id: string, conn: object, username: string | undefined = id, password?: string) =>
        new Promise<number>((resolve) => {
          const client = { id, conn } as unknown as Client;
          context.auth.authenticate(client, username, password === undefined ? undefined : Buffer.from(password), (err) => resolve(err ? err.returnCode : 0));
        });
      return { ...context, connect };
    }

    it('admits a device by its certificate, without a password, with or without a user name', async () => {
      const { connect, auth } = withCertificates();
      expect(await connect('btn-cert', tlsConn('btn-cert', true))).toBe(0);
      expect(await connect('btn-cert', tlsConn('btn-cert', true), undefined)).toBe(0);
      const client = { id: 'btn-cert', conn: tlsConn('btn-cert', true) } as unknown as Client;
      await new Promise((resolve) => auth.authenticate(client, undefined, undefined, resolve));
      expect(auth.principalOf(client)).toEqual({ kind: 'device', deviceId: 'btn-cert' });
    });

    it('refuses a certificate whose CN is not the client id, or a user name that differs', async () => {
      const { connect, refused } = withCertificates();
      expect(await connect('btn-digest', tlsConn('btn-cert', true), 'btn-digest', digestSecret)).toBe(NOT_AUTHORIZED);
      expect(await connect('btn-cert', tlsConn(undefined, true))).toBe(NOT_AUTHORIZED);
      expect(await refused('certificate-mismatch')).toBe(2);
      expect(await connect('btn-cert', tlsConn('btn-cert', true), 'btn-digest')).toBe(NOT_AUTHORIZED);
      expect(await refused('client-id-mismatch')).toBe(1);
    });

    it('refuses a deactivated device, and a certificate other than the one last issued', async () => {
      const { connect, refused } = withCertificates();
      expect(await connect('btn-off', tlsConn('btn-off', true))).toBe(NOT_AUTHORIZED);
      expect(await refused('deactivated')).toBe(1);
      expect(await connect('btn-cert', tlsConn('btn-cert', true, Buffer.from('an older certificate')))).toBe(NOT_AUTHORIZED);
      expect(await connect('btn-digest', tlsConn('btn-digest', true))).toBe(NOT_AUTHORIZED); // none issued
      expect(await refused('certificate-revoked')).toBe(2);
    });

    it('gives an untrusted certificate nothing: the secret decides', async () => {
      const { connect, refused } = withCertificates();
      expect(await connect('btn-cert', tlsConn('btn-cert', false))).toBe(NOT_AUTHORIZED);
      expect(await refused('untrusted-certificate')).toBe(1);
      expect(await connect('btn-cert', tlsConn('btn-cert', false), 'btn-cert', 'wrong')).toBe(NOT_AUTHORIZED);
      expect(await connect('btn-cert', tlsConn('btn-cert', false), 'btn-cert', digestSecret)).toBe(0);
    });
  });
});
