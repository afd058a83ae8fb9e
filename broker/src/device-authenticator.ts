import { createHash, timingSafeEqual } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import type { Client } from 'aedes';
import { isDeviceId } from '@amr/protocol';
import { Device } from '@amr/persistence';
import { verifySecret, sameToken } from '@amr/security';
import type { AmrConfig } from '@amr/config';
import { AMR_CONFIG, DATA_SOURCE, Metrics } from '@amr/runtime';

export type Principal = { kind: 'internal' } | { kind: 'device'; deviceId: string };

type AuthenticateError = Error & { returnCode: number };

/** MQTT 3.1.1 §3.2.2.3 Table 3.1: 5 = "not authorized" (CONTRACT §1). */
const NOT_AUTHORIZED = 5;

/**
 * aedes `authenticate` hook (CONTRACT §1): clientId = username = device id, password = secret,
 * checked against the scrypt hash; unknown id, wrong secret, deactivated device or
 * clientId ≠ username → CONNACK 5. The platform's own clients use the internal credentials.
 *
 * A verified secret is remembered as a SHA-256 digest next to the hash it was checked against,
 * so a reconnecting fleet costs one scrypt per device, not one per connection; rotating the secret
 * changes the stored hash and so invalidates the entry.
 */
@Injectable()
export class DeviceAuthenticator {
  private readonly logger = new Logger('MqttAuth');
  private readonly verified = new Map<string, { secretHash: string; digest: Buffer }>();
  private readonly principals = new WeakMap<Client, Principal>();

  constructor(
    @Inject(AMR_CONFIG) private readonly config: AmrConfig,
    @Inject(DATA_SOURCE) private readonly db: DataSource,
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
        const why = reason instanceof Refusal ? reason.reason : 'error';
        if (!(reason instanceof Refusal)) this.logger.error(`authentication failed: ${String(reason)}`);
        this.metrics.connectRefused.inc({ reason: why });
        const error = Object.assign(new Error(`not authorized (${why})`), { returnCode: NOT_AUTHORIZED });
        done(error, false);
      },
    );
  };

  private async check(client: Client, username: string | undefined, password: Buffer | undefined): Promise<Principal> {
    if (username === undefined || password === undefined) throw new Refusal('anonymous');
    const secret = password.toString('utf8');
    if (username === this.config.internal.username) {
      if (!sameToken(secret, this.config.internal.password)) throw new Refusal('bad-internal-secret');
      return { kind: 'internal' };
    }
    if (client.id !== username) throw new Refusal('client-id-mismatch');
    if (!isDeviceId(username)) throw new Refusal('unknown-device');
    const device = await this.db.getRepository(Device).findOne({
      where: { id: username },
      select: { id: true, secretHash: true, active: true },
    });
    if (!device) throw new Refusal('unknown-device');
    if (!device.active) throw new Refusal('deactivated');
    if (!(await this.secretMatches(device.id, device.secretHash, secret))) throw new Refusal('bad-secret');
    return { kind: 'device', deviceId: device.id };
  }

  private async secretMatches(deviceId: string, secretHash: string, secret: string): Promise<boolean> {
    const digest = createHash('sha256').update(secret).digest();
    const known = this.verified.get(deviceId);
    if (known && known.secretHash === secretHash) return timingSafeEqual(known.digest, digest);
    if (!(await verifySecret(secret, secretHash))) return false;
    this.verified.set(deviceId, { secretHash, digest });
    return true;
  }
}

class Refusal extends Error {
  constructor(readonly reason: string) {
    super(reason);
  }
}
