import { availableParallelism } from 'node:os';
import { Inject, Injectable, Logger } from '@nestjs/common';
import type { Client } from 'aedes';
import { isDeviceId } from '@amr/protocol';
import { addressKey, hashSecret, needsUpgrade, sameToken, verifyDigest, verifyScrypt } from '@amr/security';
import type { AmrConfig } from '@amr/config';
import { AMR_CONFIG, Metrics, logSafe } from '@amr/runtime';
import { AuthThrottle } from './auth-throttle.js';
import { DeviceCredentials, type StoredCredentials } from './device-credentials.js';
import { presentedCertificate, type PresentedCertificate } from './client-certificate.js';

export type Principal = { kind: 'internal' } | { kind: 'device'; deviceId: string };

type AuthenticateError = Error & { returnCode: number };

/** MQTT 3.1.1 §3.2.2.3 Table 3.1: 5 = "not authorized" (CONTRACT §1). */
const NOT_AUTHORIZED = 5;
/** MQTT 3.1.1 §3.2.2.3 Table 3.1: 3 = "server unavailable": try again, or the next endpoint (CONTRACT §1). */
const SERVER_UNAVAILABLE = 3;

/**
 * Version-1 scrypt checks running at once: one core's worth at the most, so that the event loop
 * (and every digest device's connect) keeps a core whatever is sent.
 */
const SCRYPT_CONCURRENCY = Math.max(1, Math.min(2, availableParallelism() - 1));
/** Scrypt checks allowed to wait (≈ 2 s of work); beyond it a version-1 device is asked to come back. */
const SCRYPT_QUEUE = 32;

/**
 * aedes `authenticate` hook (CONTRACT §1): clientId = username = device id, password = secret;
 * unknown id, wrong secret, deactivated device or clientId ≠ username → CONNACK 5. Over TLS, a
 * client certificate of the device CA with CN = clientId stands in for the password
 * (byCertificate). The platform's own clients use the internal credentials.
 *
 * A secret is checked against its SHA-256 digest: one hash, no cache needed, so a reconnecting
 * fleet costs one (shared) database lookup per device. A version-1 scrypt hash is checked once, at
 * most SCRYPT_CONCURRENCY at a time, and replaced by the digest on success.
 *
 * Wrong secrets and unknown ids are throttled per source address (AuthThrottle). During a back-off
 * no scrypt runs for the address; a digest is still compared (it costs nothing), so the right
 * secret of a device is never refused because someone else guessed from the same address.
 */
@Injectable()
export class DeviceAuthenticator {
  private readonly logger = new Logger('MqttAuth');
  private readonly principals = new WeakMap<Client, Principal>();
  private readonly scrypt = new Slots(SCRYPT_CONCURRENCY, SCRYPT_QUEUE);

  constructor(
    @Inject(AMR_CONFIG) private readonly config: AmrConfig,
    private readonly credentials: DeviceCredentials,
    private readonly throttle: AuthThrottle,
    private readonly metrics: Metrics,
  ) {}

  principalOf(client: Client): Principal | undefined {
    return this.principals.get(client);
  }

  readonly authenticate = (
    client: Client,
    username: string | undefined,
    password: Buffer | undefined,
    done: (error: AuthenticateError | null, success: boolean | null) => void,
  ): void => {
    this.check(client, username, password).then(
      (principal) => {
        this.principals.set(client, principal);
        done(null, true);
      },
      (reason: unknown) => {
        const refusal = reason instanceof Refusal ? reason : undefined;
        const why = refusal?.reason ?? 'error';
        if (refusal) this.logger.debug(`${logSafe(client.id)}: refused (${why})`);
        else this.logger.error(`authentication failed: ${logSafe(reason)}`);
        this.metrics.connectRefused.inc({ reason: why });
        const error = Object.assign(new Error(`not authorized (${why})`), { returnCode: refusal?.returnCode ?? NOT_AUTHORIZED });
        done(error, false);
      },
    );
  };

  private async check(client: Client, username: string | undefined, password: Buffer | undefined): Promise<Principal> {
    const certificate = presentedCertificate(client.conn);
    if (certificate?.trusted) return this.byCertificate(client.id, username, certificate);
    // A certificate the device CA did not sign (or expired) proves nothing: the secret decides.
    if (username === undefined || password === undefined) throw new Refusal(certificate ? 'untrusted-certificate' : 'anonymous');
    const secret = password.toString('utf8');
    const address = (client.conn as { remoteAddress?: string } | undefined)?.remoteAddress;
    if (username === this.config.internal.username) {
      if (!sameToken(secret, this.config.internal.password)) this.failed(address, 'bad-internal-secret');
      return { kind: 'internal' };
    }
    if (client.id !== username) throw new Refusal('client-id-mismatch');
    if (!isDeviceId(username)) this.failed(address, 'unknown-device');
    const device = await this.lookup(username);
    if (!device) this.failed(address, 'unknown-device');
    if (!device.active) throw new Refusal('deactivated');
    if (needsUpgrade(device.secretHash)) await this.checkVersion1(address, device.id, secret, device.secretHash);
    else if (!verifyDigest(secret, device.secretHash)) this.failed(address, 'bad-secret');
    return { kind: 'device', deviceId: device.id };
  }

  /**
   * CONTRACT §1 certificates: a certificate of the device CA whose CN is the client id admits that
   * device without a password (one sent is not looked at), if it exists, is active and this is the
   * certificate last issued to it (an older one was revoked by the newer). The user name, when
   * sent, must be the client id as well. Refusals here are not wrong secrets: not throttled.
   */
  private async byCertificate(clientId: string, username: string | undefined, certificate: PresentedCertificate): Promise<Principal> {
    if (certificate.commonName !== clientId) throw new Refusal('certificate-mismatch');
    if (username !== undefined && username !== clientId) throw new Refusal('client-id-mismatch');
    if (!isDeviceId(clientId)) throw new Refusal('unknown-device');
    const device = await this.lookup(clientId);
    if (!device) throw new Refusal('unknown-device');
    if (!device.active) throw new Refusal('deactivated');
    if (device.certFingerprint !== certificate.fingerprint) throw new Refusal('certificate-revoked');
    return { kind: 'device', deviceId: device.id };
  }

  /** The device's stored credentials, the wait timed (amr_mqtt_connect_step_seconds{step="credentials"}). */
  private async lookup(deviceId: string): Promise<StoredCredentials | undefined> {
    const end = this.metrics.connectStep.startTimer({ step: 'credentials' });
    try {
      return await this.credentials.find(deviceId);
    } finally {
      end();
    }
  }

  /** CONTRACT §1: a version-1 hash is accepted, then replaced by the digest. */
  private async checkVersion1(address: string | undefined, deviceId: string, secret: string, secretHash: string): Promise<void> {
    // No scrypt for an address backing off (checked again once a slot is free). The secret is
    // neither right nor wrong yet: "server unavailable" sends the device to try again later.
    const unverified = () => new Refusal('throttled', SERVER_UNAVAILABLE);
    if (this.throttle.blocked(address)) throw unverified();
    const matches = await this.scrypt.run(async () => {
      if (this.throttle.blocked(address)) throw unverified();
      return verifyScrypt(secret, secretHash);
    });
    if (!matches) this.failed(address, 'bad-secret');
    // The device is let in meanwhile; should the upgrade fail, its next connect tries again.
    this.credentials
      .upgrade(deviceId, secretHash, hashSecret(secret))
      .catch((err: unknown) => this.logger.error(`${deviceId}: secret hash not upgraded: ${String(err)}`));
  }

  /** A wrong secret or unknown id: counted against the address, refused (as `throttled` during a back-off). */
  private failed(address: string | undefined, reason: string): never {
    const wasBlocked = this.throttle.blocked(address);
    const backoff = this.throttle.failure(address);
    if (backoff > 0) this.logger.debug(`${addressKey(address)}: wrong secrets, backing off for ${backoff} ms`);
    throw new Refusal(wasBlocked ? 'throttled' : reason);
  }
}

class Refusal extends Error {
  constructor(
    readonly reason: string,
    readonly returnCode = NOT_AUTHORIZED,
  ) {
    super(reason);
  }
}

/**
 * At most `concurrency` tasks at once and `queue` waiting; a task beyond that is refused with
 * `busy` (CONNACK 3) rather than left to wait longer than a client would.
 */
class Slots {
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(
    private readonly concurrency: number,
    private readonly queue: number,
  ) {}

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.running >= this.concurrency) {
      if (this.waiting.length >= this.queue) throw new Refusal('busy', SERVER_UNAVAILABLE);
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.running += 1;
    }
    try {
      return await task();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.running -= 1;
    }
  }
}
