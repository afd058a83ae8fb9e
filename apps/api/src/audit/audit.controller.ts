import { Controller, Get, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { IsISO8601, IsString, Length } from 'class-validator';
import { AuditTrail } from '@amr/alarms';
import { AdminOnly } from '../auth/auth.guard.js';
import { PageQuery } from '../common/page.query.js';
import { instant } from '../common/instant.js';
import { Omittable } from '../common/omittable.js';

export class AuditQuery extends PageQuery {
  @ApiPropertyOptional({ example: 'integration:7d0c…', description: '`admin`, `integration:<id>`, `sms-gateway`' })
  @Omittable() @IsString() @Length(1, 200)
  principal?: string;

  @ApiPropertyOptional({ example: 'cic-antwerpen', description: 'the CIC of the integration that made the call' })
  @Omittable() @IsString() @Length(1, 64)
  cicId?: string;

  @ApiPropertyOptional({ description: 'an id the call named or answered with: an alarm, a case, a device, an integration' })
  @Omittable() @IsString() @Length(1, 200)
  target?: string;

  @ApiPropertyOptional({ example: 'alarms.accept', description: '`<feature>.<operation>`, as in the entries' })
  @Omittable() @IsString() @Length(1, 100)
  action?: string;

  @ApiPropertyOptional({ example: '2026-11-01T00:00:00Z', description: 'calls at or after this time' })
  @Omittable() @IsISO8601({ strict: true })
  from?: string;

  @ApiPropertyOptional({ example: '2026-12-01T00:00:00Z', description: 'calls before this time' })
  @Omittable() @IsISO8601({ strict: true })
  to?: string;

}

@ApiTags('audit')
@ApiBearerAuth()
@AdminOnly()
@Controller('audit')
export class AuditController {
  constructor(private readonly audit: AuditTrail) {}

  /** Who called what, on what, when and with what outcome: newest first, `{limit, offset, items}`. */
  @Get()
  async list(@Query() query: AuditQuery) {
    const limit = query.limit ?? 100;
    const offset = query.offset ?? 0;
    const items = await this.audit.list({
      ...(query.principal !== undefined ? { principal: query.principal } : {}),
      ...(query.cicId !== undefined ? { cicId: query.cicId } : {}),
      ...(query.target !== undefined ? { target: query.target } : {}),
      ...(query.action !== undefined ? { action: query.action } : {}),
      ...(query.from !== undefined ? { from: instant('from', query.from) } : {}),
      ...(query.to !== undefined ? { to: instant('to', query.to) } : {}),
      limit,
      offset,
    });
    return { limit, offset, items };
  }

  /** Walks the whole chain: valid, or the first entry that no longer matches its hash or its predecessor. */
  @Get('verification')
  verification() {
    return this.audit.verify();
  }
}
