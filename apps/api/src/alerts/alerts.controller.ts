import { Controller, Get, HttpCode, Inject, Injectable, NotFoundException, Param, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsString, Length, Max, Min } from 'class-validator';
import { Brackets, type DataSource, type SelectQueryBuilder } from 'typeorm';
import { TECHNICAL_ALERT_TYPES, TechnicalAlert, type TechnicalAlertType } from '@amr/persistence';
import { DATA_SOURCE, PlatformEvents } from '@amr/runtime';
import { actorOf, alertEvent, alertView, type AlertView, type Scope } from '@amr/alarms';
import { CallerScope } from '../auth/auth.guard.js';
import { uuidParam } from '../common/uuid.pipe.js';
import { Omittable } from '../common/omittable.js';

export class ListAlertsQuery {
  @ApiPropertyOptional({ enum: ['open', 'cleared'] })
  @Omittable() @IsIn(['open', 'cleared'])
  state?: 'open' | 'cleared';

  @ApiPropertyOptional({ enum: TECHNICAL_ALERT_TYPES })
  @Omittable() @IsIn([...TECHNICAL_ALERT_TYPES])
  type?: TechnicalAlertType;

  @ApiPropertyOptional()
  @Omittable() @IsString() @Length(3, 64)
  deviceId?: string;

  @ApiPropertyOptional({ default: 500 })
  @Omittable() @Type(() => Number) @IsInt() @Min(1) @Max(5000)
  limit?: number;
}

@Injectable()
export class AlertsService {
  constructor(@Inject(DATA_SOURCE) private readonly db: DataSource, private readonly events: PlatformEvents) {}

  /** Technical alerts (silent device, low battery, missed self-test); an integration sees its CIC's cases. */
  async list(scope: Scope, query: ListAlertsQuery): Promise<AlertView[]> {
    const q = this.visible(scope).orderBy('a.raisedAt', 'DESC').take(query.limit ?? 500);
    if (query.state === 'open') q.andWhere('a.clearedAt IS NULL');
    if (query.state === 'cleared') q.andWhere('a.clearedAt IS NOT NULL');
    if (query.type) q.andWhere('a.type = :type', { type: query.type });
    if (query.deviceId) q.andWhere('a.deviceId = :deviceId', { deviceId: query.deviceId });
    return (await q.getMany()).map(alertView);
  }

  /** An operator has seen the alert: who and when are recorded; it stays open until the device recovers. */
  async acknowledge(scope: Scope, id: string): Promise<AlertView> {
    const alert = await this.visible(scope).andWhere('a.id = :id', { id }).getOne();
    if (!alert) throw new NotFoundException(`No alert ${id} is visible to you`);
    if (!alert.acknowledgedAt) {
      const acknowledgedAt = new Date();
      const acknowledgedBy = actorOf(scope);
      // The first acknowledgement stands; a concurrent second one changes nothing.
      await this.db.getRepository(TechnicalAlert).createQueryBuilder().update()
        .set({ acknowledgedAt, acknowledgedBy })
        .where('id = :id AND acknowledged_at IS NULL', { id })
        .execute();
      const stored = await this.db.getRepository(TechnicalAlert).findOneByOrFail({ id });
      const view = alertView(stored);
      if (view.cicId) await this.events.publish(alertEvent('alert.acknowledged', view));
      return view;
    }
    return alertView(alert);
  }

  /** The alerts of the caller's CIC: raised for one of its cases (kept in details), or on a device of one now. */
  private visible(scope: Scope): SelectQueryBuilder<TechnicalAlert> {
    const q = this.db.getRepository(TechnicalAlert).createQueryBuilder('a');
    if (scope.kind === 'integration') {
      q.andWhere(new Brackets((w) => w
        .where(`a.details ->> 'cicId' = :cicId`, { cicId: scope.cicId })
        .orWhere(`EXISTS (SELECT 1 FROM devices d JOIN cases c ON c.id = d.case_id WHERE d.id = a.device_id AND c.home_cic_id = :cicId)`, { cicId: scope.cicId })));
    }
    return q;
  }
}

@ApiTags('alerts')
@ApiBearerAuth()
@Controller('alerts')
export class AlertsController {
  constructor(private readonly alerts: AlertsService) {}

  /** `?state=open|cleared&type=&deviceId=`, newest first. */
  @Get()
  list(@CallerScope() scope: Scope, @Query() query: ListAlertsQuery) {
    return this.alerts.list(scope, query);
  }

  /** Admin, or an integration of the case's CIC. */
  @Post(':id/acknowledge')
  @HttpCode(200)
  acknowledge(@CallerScope() scope: Scope, @Param('id', uuidParam()) id: string) {
    return this.alerts.acknowledge(scope, id);
  }
}
