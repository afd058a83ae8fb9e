import { BadRequestException, Controller, Get, Inject, Injectable, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { IsISO8601, IsString } from 'class-validator';
import type { DataSource } from 'typeorm';
import { DATA_SOURCE } from '@amr/runtime';
import type { Scope } from '@amr/alarms';
import { CallerScope } from '../auth/auth.guard.js';
import { instant } from '../common/instant.js';
import { Omittable } from '../common/omittable.js';

export class StatsQuery {
  @ApiPropertyOptional({ description: 'Start of the period (ISO 8601); default: 30 days ago' })
  @Omittable() @IsISO8601()
  from?: string;

  @ApiPropertyOptional({ description: 'End of the period (ISO 8601, exclusive); default: now' })
  @Omittable() @IsISO8601()
  to?: string;

  @ApiPropertyOptional({ description: 'One CIC (administrators; an integration always gets its own)' })
  @Omittable() @IsString()
  cicId?: string;
}

const STAGES = ['received', 'delivered', 'accepted', 'dispatched'] as const;
type Percentiles = { count: number; p50: number | null; p90: number | null; p99: number | null; max: number | null };

/**
 * Service levels per CIC over a period: percentiles of the seconds from the press to each stage —
 * `received` from the device's press time (its clock) to the platform, the others from the
 * platform's receipt. Self-tests are left out.
 */
@Injectable()
export class StatsService {
  constructor(@Inject(DATA_SOURCE) private readonly db: DataSource) {}

  async serviceLevels(scope: Scope, query: StatsQuery) {
    const to = query.to ? instant('to', query.to) : new Date();
    const from = query.from ? instant('from', query.from) : new Date(to.getTime() - 30 * 24 * 3600 * 1000);
    if (from >= to) throw new BadRequestException('"from" must be before "to"');
    const cicId = scope.kind === 'integration' ? scope.cicId : query.cicId;
    const seconds = {
      received: `extract(epoch from a.received_at) - fp.device_ts`,
      delivered: `extract(epoch from a.delivered_at - a.received_at)`,
      accepted: `extract(epoch from a.accepted_at - a.received_at)`,
      dispatched: `extract(epoch from a.dispatched_at - a.received_at)`,
    };
    const columns = STAGES.flatMap((stage) => [
      `count(${seconds[stage]})::int AS "${stage}_count"`,
      `percentile_cont(ARRAY[0.5, 0.9, 0.99]) WITHIN GROUP (ORDER BY ${seconds[stage]}) AS "${stage}_p"`,
      `max(${seconds[stage]}) AS "${stage}_max"`,
    ]);
    const rows: Record<string, unknown>[] = await this.db.query(
      `SELECT a.cic_id AS "cicId", count(*)::int AS alarms, ${columns.join(', ')}
         FROM alarms a
         LEFT JOIN LATERAL (SELECT p.device_ts FROM alarm_presses p WHERE p.alarm_id = a.id ORDER BY p.id LIMIT 1) fp ON true
        WHERE a.kind = 'panic' AND a.received_at >= $1 AND a.received_at < $2 AND ($3::text IS NULL OR a.cic_id = $3)
        GROUP BY a.cic_id
        ORDER BY a.cic_id`,
      [from, to, cicId ?? null],
    );
    return {
      from: from.toISOString(),
      to: to.toISOString(),
      unit: 'seconds',
      cics: rows.map((row) => ({
        cicId: row.cicId as string,
        alarms: row.alarms as number,
        ...Object.fromEntries(STAGES.map((stage) => [stage, percentiles(row, stage)])),
      })),
    };
  }
}

function percentiles(row: Record<string, unknown>, stage: string): Percentiles {
  const p = (row[`${stage}_p`] as (number | string | null)[] | null) ?? [null, null, null];
  const num = (v: unknown) => (v === null || v === undefined ? null : Math.round(Number(v) * 1000) / 1000);
  return { count: row[`${stage}_count`] as number, p50: num(p[0]), p90: num(p[1]), p99: num(p[2]), max: num(row[`${stage}_max`]) };
}

@ApiTags('alarms')
@ApiBearerAuth()
@Controller('stats')
export class StatsController {
  constructor(private readonly stats: StatsService) {}

  /** Percentiles of press → received / delivered / accepted / dispatched, per CIC, over a period. */
  @Get()
  serviceLevels(@CallerScope() scope: Scope, @Query() query: StatsQuery) {
    return this.stats.serviceLevels(scope, query);
  }
}
