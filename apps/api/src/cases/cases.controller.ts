import { Body, ConflictException, Controller, Delete, Get, HttpCode, Inject, Injectable, NotFoundException, Param, Patch, Post, UnprocessableEntityException } from '@nestjs/common';
import { ApiBearerAuth, ApiConflictResponse, ApiNotFoundResponse, ApiOkResponse, ApiProperty, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsArray, IsBoolean, IsIn, IsInt, IsISO8601, IsString, Length, Max, Min, ValidateNested } from 'class-validator';
import type { DataSource } from 'typeorm';
import { Cic, ProtectionCase } from '@amr/persistence';
import { DATA_SOURCE } from '@amr/runtime';
import { returned } from '@amr/persistence';
import { PersonalDataErasure, actorOf, caseView, type CaseErasure, type CaseView, type Scope } from '@amr/alarms';
import { AdminOnly, CallerScope } from '../auth/auth.guard.js';
import { DeviceSettings } from '../devices/device-settings.js';
import { uuidParam } from '../common/uuid.pipe.js';
import { Omittable } from '../common/omittable.js';

export class PerpetratorDto {
  @ApiPropertyOptional() @Omittable() @IsString() @Length(0, 200) name?: string;
  @ApiPropertyOptional() @Omittable() @IsString() @Length(0, 2000) description?: string;
  @ApiPropertyOptional({ example: 'grey VW Golf, 1-ABC-123' }) @Omittable() @IsString() @Length(0, 200) vehicle?: string;
  @ApiPropertyOptional() @Omittable() @IsBoolean() weaponsKnown?: boolean;
}

export class ProtectionOrderDto {
  @ApiProperty({ example: 'no-contact', description: 'e.g. no-contact, residence-ban, place-ban' }) @IsString() @Length(1, 100) type: string;
  @ApiPropertyOptional({ example: ['Kerkstraat 12, 2000 Antwerpen'] }) @Omittable() @IsArray() @IsString({ each: true }) places?: string[];
  @ApiPropertyOptional({ example: 200, description: 'metres' }) @Omittable() @IsInt() @Min(0) @Max(100_000) perimeterM?: number;
  @ApiPropertyOptional({ example: '2027-05-31' }) @Omittable() @IsISO8601() until?: string;
}

export class VictimDto {
  @ApiPropertyOptional() @Omittable() @IsString() @Length(0, 200) name?: string;
  @ApiPropertyOptional({ example: '+32470000000' }) @Omittable() @IsString() @Length(0, 40) phone?: string;
  @ApiPropertyOptional({ example: ['nl', 'fr'] }) @Omittable() @IsArray() @IsString({ each: true }) languages?: string[];
}

export class CreateCaseDto {
  @ApiProperty({ example: 'cic-antwerpen' }) @IsString() @Length(1, 64) homeCicId: string;
  @ApiPropertyOptional({ example: 'AN.12.L3.004512/25' }) @Omittable() @IsString() @Length(0, 100) reference?: string;
  @ApiPropertyOptional({ enum: ['low', 'medium', 'high', 'critical'] })
  @Omittable() @IsIn(['low', 'medium', 'high', 'critical']) riskLevel?: 'low' | 'medium' | 'high' | 'critical';
  @ApiPropertyOptional() @Omittable() @IsString() @Length(0, 4000) responderNotes?: string;
  @ApiPropertyOptional({ type: PerpetratorDto }) @Omittable() @ValidateNested() @Type(() => PerpetratorDto) perpetrator?: PerpetratorDto;
  @ApiPropertyOptional({ type: [ProtectionOrderDto] }) @Omittable() @IsArray() @ValidateNested({ each: true }) @Type(() => ProtectionOrderDto) protectionOrders?: ProtectionOrderDto[];
  @ApiPropertyOptional({ type: VictimDto }) @Omittable() @ValidateNested() @Type(() => VictimDto) victim?: VictimDto;
  @ApiPropertyOptional({ description: 'Heartbeat interval (s) for the buttons granted to this case', example: 3600 })
  @Omittable() @IsInt() @Min(1) @Max(7 * 24 * 3600) heartbeatS?: number;
  @ApiPropertyOptional({ description: 'Grace beyond the heartbeat (s) before a silent button raises an alert', example: 600 })
  @Omittable() @IsInt() @Min(0) @Max(24 * 3600) graceS?: number;
}

export class CaseSettingsDto {
  @ApiPropertyOptional({ description: 'Heartbeat interval (s) for every button granted to this case', example: 1800 })
  @Omittable() @IsInt() @Min(1) @Max(7 * 24 * 3600) heartbeatS?: number;
  @ApiPropertyOptional({ example: 300 })
  @Omittable() @IsInt() @Min(0) @Max(24 * 3600) graceS?: number;
}

@Injectable()
export class CasesService {
  constructor(
    @Inject(DATA_SOURCE) private readonly db: DataSource,
    private readonly deviceSettings: DeviceSettings,
    private readonly erasure: PersonalDataErasure,
  ) {}

  async create(dto: CreateCaseDto): Promise<CaseView> {
    const cic = await this.db.getRepository(Cic).findOne({ where: { id: dto.homeCicId } });
    if (!cic) throw new UnprocessableEntityException(`Unknown home CIC "${dto.homeCicId}": GET /api/v1/cics lists the known ones`);
    const saved = await this.db.getRepository(ProtectionCase).save({
      homeCicId: cic.id,
      reference: dto.reference ?? null,
      riskLevel: dto.riskLevel ?? null,
      responderNotes: dto.responderNotes ?? null,
      perpetrator: dto.perpetrator ? { ...dto.perpetrator } : null,
      protectionOrders: dto.protectionOrders ? dto.protectionOrders.map((o) => ({ ...o })) : null,
      victim: dto.victim ? { ...dto.victim } : null,
      heartbeatS: dto.heartbeatS ?? null,
      graceS: dto.graceS ?? null,
    });
    return caseView(saved);
  }

  /** Stores the case's heartbeat settings and applies them to the buttons granted to it. */
  async updateSettings(scope: Scope, id: string, dto: CaseSettingsDto): Promise<CaseView> {
    const found = await this.db.getRepository(ProtectionCase).findOne({ where: { id } });
    if (!found) throw new NotFoundException(`No case ${id}`);
    const changes = { ...(dto.heartbeatS !== undefined ? { heartbeatS: dto.heartbeatS } : {}), ...(dto.graceS !== undefined ? { graceS: dto.graceS } : {}) };
    if (Object.keys(changes).length === 0) return caseView(found); // nothing to change
    await this.deviceSettings.applyCaseSettings(scope, id, changes);
    await this.db.getRepository(ProtectionCase).update({ id }, changes);
    return this.get(id);
  }

  /**
   * The protection ends: the case is closed (its retention period starts, AMR_RETAIN_CASE_DATA_DAYS)
   * and its buttons go back to stock, no longer supervised. Refused while one of its alarms is open;
   * closing a closed case changes nothing.
   */
  async close(scope: Scope, id: string): Promise<CaseView> {
    await this.db.transaction(async (tx) => {
      const [found] = (await tx.query(`SELECT closed_at FROM cases WHERE id = $1 FOR UPDATE`, [id])) as { closed_at: Date | null }[];
      if (!found) throw new NotFoundException(`No case ${id}`);
      if (found.closed_at) return;
      const open = (await tx.query(`SELECT id FROM alarms WHERE case_id = $1 AND stage <> 'closed' LIMIT 1`, [id])) as { id: string }[];
      if (open.length) throw new ConflictException(`Case ${id} has an open alarm (${open[0]!.id}): close it before closing the case`);
      const now = new Date();
      const devices = returned<{ id: string }>(
        await tx.query(`UPDATE devices SET case_id = NULL, assigned_at = NULL, grant_expires_at = NULL WHERE case_id = $1 RETURNING id`, [id]),
      );
      await tx.query(
        `INSERT INTO device_events (device_id, actor, type, details, at)
         SELECT d, $2, 'unassigned', jsonb_build_object('caseId', $3::text, 'reason', 'case-closed'), $4 FROM unnest($1::text[]) AS d`,
        [devices.map((d) => d.id), actorOf(scope), id, now],
      );
      await tx.query(`UPDATE cases SET closed_at = $2 WHERE id = $1`, [id, now]);
    });
    return this.get(id);
  }

  /** Right to erasure: the case's personal data, its alarms' and its buttons' positions, now (PersonalDataErasure). */
  erase(scope: Scope, id: string): Promise<CaseErasure> {
    return this.erasure.eraseCase(id, 'case-erased', actorOf(scope));
  }

  async get(id: string): Promise<CaseView> {
    const found = await this.db.getRepository(ProtectionCase).findOne({ where: { id } });
    if (!found) throw new NotFoundException(`No case ${id}`);
    return caseView(found);
  }
}

@ApiTags('cases')
@ApiBearerAuth()
@AdminOnly()
@Controller('cases')
export class CasesController {
  constructor(private readonly cases: CasesService) {}

  /** A protection case: home CIC, risk level, responder notes, perpetrator profile. */
  @Post()
  create(@Body() dto: CreateCaseDto) {
    return this.cases.create(dto);
  }

  @Get(':id')
  get(@Param('id', uuidParam()) id: string) {
    return this.cases.get(id);
  }

  /** The protection ended: the case is closed and its buttons go back to stock (409 while an alarm is open). */
  @Post(':id/close')
  @HttpCode(200)
  @ApiConflictResponse({ description: 'one of its alarms is open: close it first' })
  close(@CallerScope() scope: Scope, @Param('id', uuidParam()) id: string) {
    return this.cases.close(scope, id);
  }

  /**
   * Erases the case's personal data on request (right to erasure): victim, perpetrator, reference,
   * notes and orders; its alarms' positions, press payloads and outcomes (their skeletons, timings
   * and verifiable timelines stay, each with an `erased` entry); its buttons' reported positions.
   * The buttons are unassigned (back in stock, still active: a press is answered `rejected`). The
   * case is closed if it was not. 409 while one of its alarms is open; again: no change.
   */
  @Delete(':id')
  @ApiOkResponse({ description: '`{case, alarms, devicesUnassigned}`: the case as it remains, how many of its alarms were erased now, the buttons sent back to stock' })
  @ApiNotFoundResponse({ description: 'no such case' })
  @ApiConflictResponse({ description: 'one of its alarms is open: close it first' })
  erase(@CallerScope() scope: Scope, @Param('id', uuidParam()) id: string) {
    return this.cases.erase(scope, id);
  }

  /** `{heartbeatS?, graceS?}` for every button granted to the case, now and later. */
  @Patch(':id')
  updateSettings(@CallerScope() scope: Scope, @Param('id', uuidParam()) id: string, @Body() dto: CaseSettingsDto) {
    return this.cases.updateSettings(scope, id, dto);
  }
}
