import { Controller, Get, Inject, Injectable, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { IsIn, IsOptional } from 'class-validator';
import { In, IsNull, Not, type DataSource, type FindOptionsWhere } from 'typeorm';
import { Device, TechnicalAlert } from '@amr/persistence';
import { DATA_SOURCE } from '@amr/runtime';
import type { Scope } from '@amr/alarms';
import { CallerScope } from '../auth/auth.guard.js';

export class ListAlertsQuery {
  @ApiPropertyOptional({ enum: ['open', 'cleared'] })
  @IsOptional() @IsIn(['open', 'cleared'])
  state?: 'open' | 'cleared';
}

@Injectable()
export class AlertsService {
  constructor(@Inject(DATA_SOURCE) private readonly db: DataSource) {}

  /** Technical alerts (silent device, low battery, missed self-test); an integration sees its CIC's cases. */
  async list(scope: Scope, query: ListAlertsQuery) {
    const where: FindOptionsWhere<TechnicalAlert> = {};
    if (query.state === 'open') where.clearedAt = IsNull();
    if (query.state === 'cleared') where.clearedAt = Not(IsNull());
    if (scope.kind === 'integration') {
      const devices = await this.db
        .getRepository(Device)
        .createQueryBuilder('d')
        .innerJoin('cases', 'c', 'c.id = d.case_id')
        .where('c.home_cic_id = :cicId', { cicId: scope.cicId })
        .select('d.id', 'id')
        .getRawMany<{ id: string }>();
      where.deviceId = In(devices.map((d) => d.id));
    }
    const alerts = await this.db.getRepository(TechnicalAlert).find({ where, order: { raisedAt: 'DESC' }, take: 500 });
    return alerts.map((a) => ({
      id: a.id,
      deviceId: a.deviceId,
      type: a.type,
      raisedAt: a.raisedAt.toISOString(),
      clearedAt: a.clearedAt ? a.clearedAt.toISOString() : null,
      details: a.details ?? {},
    }));
  }
}

@ApiTags('alerts')
@ApiBearerAuth()
@Controller('alerts')
export class AlertsController {
  constructor(private readonly alerts: AlertsService) {}

  @Get()
  list(@CallerScope() scope: Scope, @Query() query: ListAlertsQuery) {
    return this.alerts.list(scope, query);
  }
}
