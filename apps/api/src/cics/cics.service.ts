import { BadRequestException, Inject, Injectable, NotFoundException, UnprocessableEntityException } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { Cic } from '@amr/persistence';
import { validateGeometry } from '@amr/geo';
import { DATA_SOURCE } from '@amr/runtime';
import type { CicDetailDto, CicSummaryDto, UpdateCicDto } from './cics.dto.js';

/** Where an area uploaded through the API is recorded as coming from. */
export const API_AREA_SOURCE = 'api';

/**
 * The emergency centres (CONTRACT §4) with their coverage areas and backup CICs (docs/coverage-areas.md). The
 * routing reads areas from the database, so a new area takes effect without a restart.
 */
@Injectable()
export class CicsService {
  constructor(@Inject(DATA_SOURCE) private readonly db: DataSource) {}

  async list(): Promise<CicSummaryDto[]> {
    const rows = await this.db
      .getRepository(Cic)
      .createQueryBuilder('cic')
      .select(['cic.id AS id', 'cic.name AS name', 'cic.backup_cic_id AS "backupCicId"', 'cic.area IS NOT NULL AS "hasArea"'])
      .orderBy('cic.id', 'ASC')
      .getRawMany<CicSummaryDto>();
    return rows.map(({ id, name, backupCicId, hasArea }) => ({ id, name, backupCicId, hasArea: Boolean(hasArea) }));
  }

  async get(id: string): Promise<CicDetailDto> {
    return toDetail(await this.find(id));
  }

  /** Body: a GeoJSON Polygon or MultiPolygon, or a Feature holding one. */
  async setArea(id: string, body: unknown): Promise<CicDetailDto> {
    const cic = await this.find(id);
    const checked = validateGeometry(unwrapFeature(body));
    if (!checked.ok) throw new BadRequestException(`Invalid coverage area: ${checked.error}`);
    cic.area = checked.value;
    cic.areaSource = API_AREA_SOURCE;
    await this.db.getRepository(Cic).update({ id }, { area: cic.area, areaSource: cic.areaSource });
    return toDetail(cic);
  }

  async update(id: string, dto: UpdateCicDto): Promise<CicDetailDto> {
    const cic = await this.find(id);
    const backupCicId = dto.backupCicId;
    if (backupCicId === id) throw new UnprocessableEntityException(`${id} cannot be its own backup; choose a neighbouring CIC`);
    if (backupCicId !== null && !(await this.db.getRepository(Cic).exists({ where: { id: backupCicId } }))) {
      throw new UnprocessableEntityException(`Unknown backup CIC ${backupCicId}; GET /api/v1/cics lists the known ids`);
    }
    cic.backupCicId = backupCicId;
    await this.db.getRepository(Cic).update({ id }, { backupCicId });
    return toDetail(cic);
  }

  private async find(id: string): Promise<Cic> {
    const cic = await this.db.getRepository(Cic).findOne({ where: { id } });
    if (!cic) throw new NotFoundException(`Unknown CIC ${id}; GET /api/v1/cics lists the known ids`);
    return cic;
  }
}

/** A GeoJSON Feature (RFC 7946 §3.2) stands for its geometry. */
function unwrapFeature(body: unknown): unknown {
  if (typeof body === 'object' && body !== null && (body as { type?: unknown }).type === 'Feature') {
    return (body as { geometry?: unknown }).geometry ?? null;
  }
  return body;
}

function toDetail({ id, name, backupCicId, area, areaSource }: Cic): CicDetailDto {
  return { id, name, backupCicId, area: area as Record<string, unknown> | null, areaSource };
}
