import { Controller, Get, Inject, Injectable } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import type { DataSource } from 'typeorm';
import { Cic, Integration } from '@amr/persistence';
import { DATA_SOURCE } from '@amr/runtime';
import type { Scope } from '@amr/alarms';
import { CallerScope } from './auth.guard.js';

/** Who a token belongs to: what a client shows after sign-in, and which CIC's alarms it handles. */
export type Caller =
  | { kind: 'admin' }
  | { kind: 'integration'; integrationId: string; name: string; cicId: string; cicName: string };

@Injectable()
export class MeService {
  constructor(@Inject(DATA_SOURCE) private readonly db: DataSource) {}

  async describe(scope: Scope): Promise<Caller> {
    if (scope.kind !== 'integration') return { kind: 'admin' };
    const [integration, cic] = await Promise.all([
      this.db.getRepository(Integration).findOneBy({ id: scope.integrationId }),
      this.db.getRepository(Cic).findOneBy({ id: scope.cicId }),
    ]);
    return {
      kind: 'integration',
      integrationId: scope.integrationId,
      name: integration?.name ?? '',
      cicId: scope.cicId,
      cicName: cic?.name ?? scope.cicId,
    };
  }
}

@ApiTags('auth')
@ApiBearerAuth()
@Controller('me')
export class MeController {
  constructor(private readonly me: MeService) {}

  /** `{kind: 'admin'}`, or `{kind: 'integration', integrationId, name, cicId, cicName}`. */
  @Get()
  get(@CallerScope() scope: Scope) {
    return this.me.describe(scope);
  }
}
