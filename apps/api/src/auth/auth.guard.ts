import { CanActivate, ExecutionContext, ForbiddenException, Inject, Injectable, UnauthorizedException, SetMetadata, createParamDecorator } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { DataSource } from 'typeorm';
import type { Request } from 'express';
import { preparedQuery } from '@amr/persistence';
import { hashToken, sameToken } from '@amr/security';
import type { AmrConfig } from '@amr/config';
import { AMR_CONFIG, DATA_SOURCE } from '@amr/runtime';
import { actorOf, type Scope } from '@amr/alarms';
import { ALARM_WORK, RateLimits, type AlarmWorkKind } from '../limits/rate-limits.js';

const ACCESS = 'amr:access';
type Access = 'public' | 'admin' | 'sms-gateway';

/** Open to anyone (GET /health). Every other route needs a bearer token. */
export const Public = () => SetMetadata(ACCESS, 'public' satisfies Access);
/** Administrators only (AMR_ADMIN_TOKEN); integrations get 403. */
export const AdminOnly = () => SetMetadata(ACCESS, 'admin' satisfies Access);

/** The SMS gateway only (AMR_SMS_GATEWAY_TOKEN); while that is unset, nobody (401). */
export const SmsGatewayOnly = () => SetMetadata(ACCESS, 'sms-gateway' satisfies Access);

/** Who made a request, as the audit trail names them: `admin`, `integration:<id>` (with its CIC), `sms-gateway`, `anonymous`. */
export interface Caller {
  readonly principal: string;
  readonly cicId: string | null;
}

type AuthenticatedRequest = Request & { scope?: Scope; caller?: Caller };

/** The caller of a request that passed AuthGuard. */
export function callerOf(request: Request): Caller {
  return (request as AuthenticatedRequest).caller ?? { principal: 'anonymous', cicId: null };
}

/** The caller's scope, as established by AuthGuard. */
export const CallerScope = createParamDecorator((_: unknown, ctx: ExecutionContext): Scope => {
  return (ctx.switchToHttp().getRequest<Request & { scope: Scope }>()).scope;
});

/**
 * Bearer-token authentication (CONTRACT §4): the admin token from AMR_ADMIN_TOKEN, or an
 * integration token, stored as SHA-256, scoped to one CIC; the SMS gateway's own token on its
 * route. No anonymous access but /health. The request rates are charged here too, once the caller
 * is known (RateLimits): an integration's to its token, a request without a valid token (and one to
 * a public route) to its source address, which answers 429 instead of 401 once that is exhausted.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    @Inject(AMR_CONFIG) private readonly config: AmrConfig,
    @Inject(DATA_SOURCE) private readonly db: DataSource,
    private readonly limits: RateLimits,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return true; // device messages are authenticated by the broker
    const targets = [context.getHandler(), context.getClass()];
    const access = this.reflector.getAllAndOverride<Access | undefined>(ACCESS, targets);
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    if (access === 'public') {
      this.limits.anonymous(request.socket.remoteAddress);
      return true;
    }
    let scope: Scope;
    try {
      const token = bearer(request.headers.authorization);
      if (access === 'sms-gateway') {
        this.smsGateway(token);
        request.caller = { principal: 'sms-gateway', cicId: null };
        return true;
      }
      scope = await this.scopeOf(token);
    } catch (err) {
      if (err instanceof UnauthorizedException) this.limits.anonymous(request.socket.remoteAddress);
      throw err;
    }
    request.scope = scope;
    request.caller = { principal: actorOf(scope), cicId: scope.kind === 'integration' ? scope.cicId : null };
    if (scope.kind === 'integration') this.limits.integration(scope.integrationId, this.reflector.getAllAndOverride<AlarmWorkKind | undefined>(ALARM_WORK, targets));
    if (access === 'admin' && scope.kind !== 'admin') {
      throw new ForbiddenException('This route is for administrators (AMR_ADMIN_TOKEN); integration tokens cannot use it');
    }
    return true;
  }

  private smsGateway(token: string): boolean {
    const expected = this.config.sms.gatewayToken;
    if (!expected) throw new UnauthorizedException('The SMS path is off: set AMR_SMS_GATEWAY_TOKEN to let an SMS gateway post presses');
    if (!sameToken(token, expected)) throw new UnauthorizedException('Wrong SMS gateway token (AMR_SMS_GATEWAY_TOKEN)');
    return true;
  }

  private async scopeOf(token: string): Promise<Scope> {
    if (sameToken(token, this.config.adminToken)) return { kind: 'admin' };
    // Plain SQL, prepared once per connection: every request of an integration passes here.
    const [integration] = (await preparedQuery(
      this.db,
      'integration-by-token',
      `SELECT id, cic_id FROM integrations WHERE token_hash = $1 AND revoked_at IS NULL`,
      [hashToken(token)],
    )) as { id: string; cic_id: string }[];
    if (!integration) throw new UnauthorizedException('Unknown or revoked token');
    return { kind: 'integration', integrationId: integration.id, cicId: integration.cic_id };
  }
}

function bearer(header: string | undefined): string {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  if (!match) throw new UnauthorizedException('Missing bearer token: send "Authorization: Bearer <token>"');
  return match[1]!;
}
