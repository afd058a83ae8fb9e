import { Body, Controller, Inject, Injectable, Post, UnprocessableEntityException } from '@nestjs/common';
import { ApiBearerAuth, ApiProperty, ApiTags } from '@nestjs/swagger';
import { IsString, Length } from 'class-validator';
import type { DataSource } from 'typeorm';
import { Cic, Integration } from '@amr/persistence';
import { hashToken, newToken } from '@amr/security';
import { DATA_SOURCE } from '@amr/runtime';
import { AdminOnly } from '../auth/auth.guard.js';

export class CreateIntegrationDto {
  @ApiProperty({ example: 'cic-antwerpen' })
  @IsString()
  @Length(1, 64)
  cicId: string;

  @ApiProperty({ example: 'Antwerpen dispatch console' })
  @IsString()
  @Length(1, 200)
  name: string;
}

@Injectable()
export class IntegrationsService {
  constructor(@Inject(DATA_SOURCE) private readonly db: DataSource) {}

  /** Issues a CIC-scoped token; it is shown once and stored only as its SHA-256. */
  async create(dto: CreateIntegrationDto): Promise<{ id: string; cicId: string; name: string; token: string }> {
    const cic = await this.db.getRepository(Cic).findOne({ where: { id: dto.cicId } });
    if (!cic) throw new UnprocessableEntityException(`Unknown CIC "${dto.cicId}": GET /api/v1/cics lists the known ones`);
    const token = newToken('amri');
    const saved = await this.db.getRepository(Integration).save({ cicId: cic.id, name: dto.name, tokenHash: hashToken(token) });
    return { id: saved.id, cicId: cic.id, name: dto.name, token };
  }
}

@ApiTags('integrations')
@ApiBearerAuth()
@AdminOnly()
@Controller('integrations')
export class IntegrationsController {
  constructor(private readonly integrations: IntegrationsService) {}

  /** A CIC-scoped bearer token for one integration (shown once). */
  @Post()
  create(@Body() dto: CreateIntegrationDto) {
    return this.integrations.create(dto);
  }
}
