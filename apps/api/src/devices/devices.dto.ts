import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsInt, IsOptional, IsUUID, Matches, Max, Min } from 'class-validator';

export class DeviceSettingsDto {
  @ApiPropertyOptional({ description: 'Expected heartbeat interval, seconds', example: 3600 })
  @IsOptional() @IsInt() @Min(60) @Max(7 * 24 * 3600)
  heartbeatS?: number;

  @ApiPropertyOptional({ description: 'Silence tolerated beyond the heartbeat interval before an alert, seconds', example: 600 })
  @IsOptional() @IsInt() @Min(0) @Max(24 * 3600)
  graceS?: number;
}

export class CreateDeviceDto extends DeviceSettingsDto {
  @ApiProperty({ description: 'The protection case the button is granted for' })
  @IsUUID()
  caseId: string;

  @ApiPropertyOptional({ description: 'Device id (default: generated); CONTRACT §1 pattern', example: 'btn-4f2a9c' })
  @IsOptional()
  @Matches(/^[A-Za-z0-9_-]{3,64}$/, { message: 'deviceId must be 3-64 characters of A-Z, a-z, 0-9, "_" or "-"' })
  deviceId?: string;
}
