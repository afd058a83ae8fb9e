import { HttpException, HttpStatus, Inject, Injectable, SetMetadata } from '@nestjs/common';
import type { AmrConfig } from '@amr/config';
import { AMR_CONFIG, Metrics } from '@amr/runtime';
import { addressKey } from '@amr/security';
import { TokenBuckets, type Take } from './token-buckets.js';

/**
 * How a route serves a CIC working its alarms: `act` (accept, dispatch, close, delivered — what
 * tells a victim that help is coming) is never rate-limited; `read` (the alarms themselves) counts
 * against a separate, much larger bucket than the rest of the API.
 */
export type AlarmWorkKind = 'act' | 'read';
export const ALARM_WORK = 'amr:alarm-work';
export const AlarmWork = (kind: AlarmWorkKind) => SetMetadata(ALARM_WORK, kind);

/** 429 with `Retry-After` (seconds), set by the exception filter. */
export class TooManyRequests extends HttpException {
  constructor(message: string, readonly retryAfterS: number) {
    super(message, HttpStatus.TOO_MANY_REQUESTS);
  }
}

/**
 * Request rates per integration token and per source address (docs/security.md, "HTTP limits").
 * In memory: with several nodes, each node counts its own requests, so a caller spread over n
 * nodes gets up to n times the rate. The admin token is not limited (its holder runs the platform);
 * the SMS gateway's presses are not either.
 */
@Injectable()
export class RateLimits {
  private readonly token: TokenBuckets;
  private readonly alarmReads: TokenBuckets;
  private readonly address: TokenBuckets;

  constructor(@Inject(AMR_CONFIG) private readonly config: AmrConfig, private readonly metrics: Metrics) {
    this.token = new TokenBuckets(config.httpLimits.token);
    this.alarmReads = new TokenBuckets(config.httpLimits.alarmReads);
    this.address = new TokenBuckets(config.httpLimits.address);
  }

  /** A request of an integration token to a route of the given kind (none: the rest of the API). */
  integration(integrationId: string, work: AlarmWorkKind | undefined): void {
    if (work === 'act') return;
    const { perS, burst } = work === 'read' ? this.config.httpLimits.alarmReads : this.config.httpLimits.token;
    if (work === 'read') {
      this.refuse(this.alarmReads.take(integrationId), 'alarm-reads', (s) =>
        `Too many alarm reads with this integration token (AMR_RATE_ALARM_READS_PER_S=${perS}, burst ${burst}): retry after ${s} s. ` +
        'The event stream (GET /api/v1/events) brings every change without polling; accept, dispatch, close and delivered are never limited.');
    } else {
      this.refuse(this.token.take(integrationId), 'token', (s) =>
        `Too many requests with this integration token (AMR_RATE_TOKEN_PER_S=${perS}, burst ${burst}): retry after ${s} s. ` +
        'Reading and working alarms (accept, dispatch, close, delivered) count separately and are not held up by this.');
    }
  }

  /** A request that proved no token (none, unknown, revoked), or one to a public route. */
  anonymous(remoteAddress: string | undefined): void {
    const { perS, burst } = this.config.httpLimits.address;
    this.refuse(this.address.take(addressKey(remoteAddress)), 'address', (s) =>
      `Too many requests without a valid token from your address (AMR_RATE_ADDRESS_PER_S=${perS}, burst ${burst}): retry after ${s} s`);
  }

  private refuse(take: Take, limit: string, message: (retryAfterS: number) => string): void {
    if (take.ok) return;
    this.metrics.httpRateLimited.inc({ limit });
    throw new TooManyRequests(message(take.retryAfterS), take.retryAfterS);
  }
}
