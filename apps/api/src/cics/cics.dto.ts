import { ApiProperty } from '@nestjs/swagger';
import { IsString, ValidateIf } from 'class-validator';

/** `PATCH /cics/{id}`: the CIC that takes over alarms this one leaves unseen; `null` for none. */
export class UpdateCicDto {
  @ApiProperty({ type: String, nullable: true, description: 'Another CIC\'s id, or null for no backup', example: 'cic-namur' })
  @ValidateIf((dto: UpdateCicDto) => dto.backupCicId !== null)
  @IsString({ message: 'backupCicId must be a CIC id (e.g. "cic-namur") or null' })
  backupCicId: string | null;
}

export class CicSummaryDto {
  @ApiProperty({ example: 'cic-namur' })
  id: string;

  @ApiProperty({ example: 'CIC Namur' })
  name: string;

  @ApiProperty({ type: String, nullable: true, example: 'cic-liege', description: 'Takes over alarms this CIC leaves unseen' })
  backupCicId: string | null;

  @ApiProperty({ description: 'Whether alarms can be routed here by position' })
  hasArea: boolean;
}

export class CicDetailDto {
  @ApiProperty({ example: 'cic-namur' })
  id: string;

  @ApiProperty({ example: 'CIC Namur' })
  name: string;

  @ApiProperty({ type: String, nullable: true, example: 'cic-liege' })
  backupCicId: string | null;

  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    nullable: true,
    description: 'Coverage area: a GeoJSON Polygon or MultiPolygon, WGS84 [longitude, latitude] (RFC 7946)',
    example: { type: 'Polygon', coordinates: [[[4.7, 50.4], [5.0, 50.4], [5.0, 50.55], [4.7, 50.55], [4.7, 50.4]]] },
  })
  area: Record<string, unknown> | null;

  @ApiProperty({ type: String, nullable: true, example: 'amr-default-coarse-v1', description: "Where the area came from: a data set name, or 'api'" })
  areaSource: string | null;
}
