import { CanActivate, ExecutionContext, ForbiddenException, Inject, Injectable, UnauthorizedException, SetMetadata, createParamDecorator } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { DataSource } from 'typeorm';
import type { Request } from 'express';
import { preparedQuery } from '@amr/persistence';
import { hashToken, sameToken } from '@amr/security';
import type { AmrConfig } from '@amr/config';
import { AMR_CONFIG, DATA_SOURCE } from '@amr/runtime';
import type { Scope } from '@amr/alarms';

const ACCESS = 'amr:access';
type Access = 'public' | 'admin' | 'sms-gateway';

/** Open to anyone (GET /health). Every other route needs a bearer token. */
export const Public = () => SetMetadata(ACCESS, 'public' satisfies Access);
/** Administrators only (AMR_ADMIN_TOKEN); integrations get 403. */
export const AdminOnly = () => SetMetadata(ACCESS, 'admin' satisfies Access);

/** The SMS gateway only (AMR_SMS_GATEWAY_TOKEN); while that is unset, nobody (401). */
export const SmsGatewayOnly = () => SetMetadata(ACCESS, 'sms-gateway' satisfies Access);

/** The caller's scope, as established by AuthGuard. */
export const CallerScope = createParamDecorator((_: unknown, ctx: ExecutionContext): Scope => {
  return (ctx.switchToHttp().getRequest<Request & { scope: Scope }>()).scope;
});

/**
 * Bearer-token authentication (CONTRACT §4): the admin token from AMR_ADMIN_TOKEN, or an
 * integration token, stored as SHA-256, scoped to one CIC; the SMS gateway's own token on its
 * route. No anonymous access but /health.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    @Inject(AMR_CONFIG) private readonly config: AmrConfig,
    @Inject(DATA_SOURCE) private readonly db: DataSource,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return true; // device messages are authenticated by the broker
    const access = this.reflector.getAllAndOverride<Access | undefined>(ACCESS, [context.getHandler(), context.getClass()]);
    if (access === 'public') return true;
    const request = context.switchToHttp().getRequest<Request & { scope?: Scope }>();
    const token = bearer(request.headers.authorization);
    if (access === 'sms-gateway') return this.smsGateway(token);
    const scope = await this.scopeOf(token);
    if (access === 'admin' && scope.kind !== 'admin') {
      throw new ForbiddenException('This route is for administrators (AMR_ADMIN_TOKEN); integration tokens cannot use it');
    }
    request.scope = scope;
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
