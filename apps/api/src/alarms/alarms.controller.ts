import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiPropertyOptional, ApiProperty, ApiTags } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsString, Length, Max, Min } from 'class-validator';
import { AlarmQueries, AlarmStages, type Scope } from '@amr/alarms';
import { CallerScope } from '../auth/auth.guard.js';
import { AlarmWork } from '../limits/rate-limits.js';
import { uuidParam } from '../common/uuid.pipe.js';
import { Omittable } from '../common/omittable.js';

export class ListAlarmsQuery {
  @ApiPropertyOptional({ enum: ['open', 'closed'] })
  @Omittable() @IsIn(['open', 'closed'])
  state?: 'open' | 'closed';

  @ApiPropertyOptional({ default: 100 })
  @Omittable() @Type(() => Number) @IsInt() @Min(1) @Max(1000)
  limit?: number;
}

export class DispatchDto {
  @ApiPropertyOptional({ example: 'ANT-PATROL-21' }) @Omittable() @IsString() @Length(1, 100) unit?: string;
  @ApiPropertyOptional({ example: 7 }) @Omittable() @IsInt() @Min(0) @Max(600) etaMin?: number;
}

export class CloseDto {
  @ApiProperty({ example: 'perpetrator arrested' }) @IsString() @Length(1, 2000) outcome: string;
}

@ApiTags('alarms')
@ApiBearerAuth()
@Controller('alarms')
export class AlarmsController {
  constructor(
    private readonly alarms: AlarmQueries,
    private readonly stages: AlarmStages,
  ) {}

  /** Alarms visible to the caller (an integration sees only those routed to its CIC). */
  @Get()
  @AlarmWork('read')
  list(@CallerScope() scope: Scope, @Query() query: ListAlarmsQuery) {
    return this.alarms.list(scope, query);
  }

  /** One alarm with its case context, positions and timeline. */
  @Get(':id')
  @AlarmWork('read')
  get(@CallerScope() scope: Scope, @Param('id', uuidParam()) id: string) {
    return this.alarms.get(scope, id);
  }

  /** The timeline with its hash chain and a verification that fails if a stored entry was altered. */
  @Get(':id/evidence')
  @AlarmWork('read')
  evidence(@CallerScope() scope: Scope, @Param('id', uuidParam()) id: string) {
    return this.alarms.evidence(scope, id);
  }

  /**
   * The integration has the alarm (CONTRACT §4): an SSE write alone is not delivery. An integration
   * of the responsible CIC confirms it once it holds the alarm (shown, stored); until then the
   * alarm is escalated after the delivery timeout. Idempotent. Accepting it also counts.
   */
  @Post(':id/delivered')
  @AlarmWork('act')
  @HttpCode(200)
  delivered(@CallerScope() scope: Scope, @Param('id', uuidParam()) id: string) {
    return this.stages.confirmDelivered(scope, id);
  }

  /** An operator takes the alarm → the device vibrates `double`. */
  @Post(':id/accept')
  @AlarmWork('act')
  @HttpCode(200)
  accept(@CallerScope() scope: Scope, @Param('id', uuidParam()) id: string) {
    return this.stages.accept(scope, id);
  }

  /** A unit is on its way → the device vibrates `triple`. */
  @Post(':id/dispatch')
  @AlarmWork('act')
  @HttpCode(200)
  dispatch(@CallerScope() scope: Scope, @Param('id', uuidParam()) id: string, @Body() dto: DispatchDto) {
    return this.stages.dispatch(scope, id, dto);
  }

  /** The CIC closes the alarm → the device gets `closed` (no vibration, on purpose). */
  @Post(':id/close')
  @AlarmWork('act')
  @HttpCode(200)
  close(@CallerScope() scope: Scope, @Param('id', uuidParam()) id: string, @Body() dto: CloseDto) {
    return this.stages.close(scope, id, dto.outcome);
  }
}
