import { Body, Controller, Get, Param, Patch, Put } from '@nestjs/common';
import { ApiBadRequestResponse, ApiBearerAuth, ApiBody, ApiNotFoundResponse, ApiOkResponse, ApiTags, ApiUnprocessableEntityResponse } from '@nestjs/swagger';
import { AdminOnly } from '../auth/auth.guard.js';
import { cicIdParam } from '../common/uuid.pipe.js';
import { CicDetailDto, CicSummaryDto, UpdateCicDto } from './cics.dto.js';
import { CicsService } from './cics.service.js';

export { CicsService };

@ApiTags('cics')
@ApiBearerAuth()
@Controller('cics')
export class CicsController {
  constructor(private readonly cics: CicsService) {}

  /** The emergency centres known to the platform. */
  @Get()
  @ApiOkResponse({ type: [CicSummaryDto] })
  list() {
    return this.cics.list();
  }

  /** One centre with its coverage area and backup CIC. */
  @Get(':id')
  @ApiOkResponse({ type: CicDetailDto })
  @ApiNotFoundResponse({ description: 'Unknown CIC id' })
  get(@Param('id', cicIdParam()) id: string) {
    return this.cics.get(id);
  }

  /** Replaces the coverage area; alarms are routed by it from then on. */
  @Put(':id/area')
  @AdminOnly()
  @ApiBody({
    description: 'A GeoJSON Polygon or MultiPolygon (or a Feature holding one), WGS84 [longitude, latitude], rings closed',
    schema: {
      type: 'object',
      example: { type: 'Polygon', coordinates: [[[4.7, 50.4], [5.0, 50.4], [5.0, 50.55], [4.7, 50.55], [4.7, 50.4]]] },
    },
  })
  @ApiOkResponse({ type: CicDetailDto })
  @ApiBadRequestResponse({ description: 'Not a valid area; the message names the problem and where' })
  setArea(@Param('id', cicIdParam()) id: string, @Body() body: unknown) {
    return this.cics.setArea(id, body);
  }

  /** `{backupCicId}`: the CIC that takes over alarms this one leaves unseen; `null` for none. */
  @Patch(':id')
  @AdminOnly()
  @ApiOkResponse({ type: CicDetailDto })
  @ApiUnprocessableEntityResponse({ description: 'Unknown backup CIC, or the CIC itself' })
  update(@Param('id', cicIdParam()) id: string, @Body() dto: UpdateCicDto) {
    return this.cics.update(id, dto);
  }
}
