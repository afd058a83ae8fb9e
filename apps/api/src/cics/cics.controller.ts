import { Controller, Get, Inject, Injectable } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import type { DataSource } from 'typeorm';
import { Cic } from '@amr/persistence';
import { DATA_SOURCE } from '@amr/runtime';

@Injectable()
export class CicsService {
  constructor(@Inject(DATA_SOURCE) private readonly db: DataSource) {}

  async list(): Promise<{ id: string; name: string }[]> {
    const cics = await this.db.getRepository(Cic).find({ order: { id: 'ASC' } });
    return cics.map(({ id, name }) => ({ id, name }));
  }
}

@ApiTags('cics')
@ApiBearerAuth()
@Controller('cics')
export class CicsController {
  constructor(private readonly cics: CicsService) {}

  /** The emergency centres known to the platform. */
  @Get()
  list() {
    return this.cics.list();
  }
}
