import { ApiPropertyOptional, ApiProperty } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsBoolean, IsIn, IsInt, IsString, IsUUID, Length, Matches, Max, MaxLength, Min } from 'class-validator';
import { E164, E164_MESSAGE } from '../sms/sms.dto.js';
import { PageQuery } from '../common/page.query.js';
import { Omittable } from '../common/omittable.js';

export class DeviceSettingsDto {
  @ApiPropertyOptional({ description: 'Expected heartbeat interval, seconds (at least AMR_MIN_HEARTBEAT_S, default 60)', example: 3600 })
  @Omittable() @IsInt() @Min(1) @Max(7 * 24 * 3600)
  heartbeatS?: number;

  @ApiPropertyOptional({ description: 'Silence tolerated beyond the heartbeat interval before an alert, seconds', example: 600 })
  @Omittable() @IsInt() @Min(0) @Max(24 * 3600)
  graceS?: number;
}

/** PATCH /devices/{id}: settings, and the SIM's number for the SMS path (null removes it). */
export class UpdateDeviceDto extends DeviceSettingsDto {
  @ApiPropertyOptional({ type: String, nullable: true, description: 'The SIM\'s number, E.164: the only sender whose SMS presses are accepted (CONTRACT §6); null removes it', example: '+32470123456' })
  @Omittable({ nullable: true }) @Matches(E164, { message: `msisdn ${E164_MESSAGE}` })
  msisdn?: string | null;
}

/** Hardware identity, as printed on the box and the SIM. */
export class HardwareIdentityDto extends DeviceSettingsDto {
  @ApiPropertyOptional({ description: '15-digit IMEI', example: '356938035643809' })
  @Omittable() @Matches(/^\d{15}$/, { message: 'imei must be 15 digits' })
  imei?: string;

  @ApiPropertyOptional({ description: 'SIM ICCID, 18-22 digits', example: '8932030000000000012' })
  @Omittable() @Matches(/^\d{18,22}$/, { message: 'iccid must be 18 to 22 digits' })
  iccid?: string;

  @ApiPropertyOptional({ example: 'AMR-B1' })
  @Omittable() @IsString() @Length(1, 100)
  model?: string;

  @ApiPropertyOptional({ description: 'Firmware version it shipped with', example: '1.0.0' })
  @Omittable() @IsString() @Length(1, 32)
  fw?: string;

  @ApiPropertyOptional({ description: 'The SIM\'s number, E.164: the only sender whose SMS presses are accepted (CONTRACT §6)', example: '+32470123456' })
  @Omittable() @Matches(E164, { message: `msisdn ${E164_MESSAGE}` })
  msisdn?: string;
}

export class CreateDeviceDto extends HardwareIdentityDto {
  @ApiPropertyOptional({ description: 'The protection case the button is granted for (none: the button goes to stock)' })
  @Omittable() @IsUUID()
  caseId?: string;

  @ApiPropertyOptional({ description: 'Length of the grant with a case, months (default AMR_GRANT_MONTHS)', example: 6 })
  @Omittable() @IsInt() @Min(1) @Max(60)
  grantMonths?: number;

  @ApiPropertyOptional({ description: 'Device id (default: generated); CONTRACT §1 pattern', example: 'btn-4f2a9c' })
  @Omittable()
  @Matches(/^[A-Za-z0-9_-]{3,64}$/, { message: 'deviceId must be 3-64 characters of A-Z, a-z, 0-9, "_" or "-"' })
  deviceId?: string;
}

/** CONTRACT §4: devices provisioned in one request at the most. */
export const MAX_BATCH = 1000;

/** CONTRACT §4 bulk provisioning: exactly one of `count` and `caseIds`. */
export class CreateDevicesBatchDto {
  @ApiPropertyOptional({ description: `Buttons into stock (no case), 1 to ${MAX_BATCH}`, example: 100 })
  @Omittable()
  @IsInt({ message: 'count must be a whole number' })
  @Min(1, { message: `count must be 1 to ${MAX_BATCH}` })
  @Max(MAX_BATCH, { message: `count must be 1 to ${MAX_BATCH}: split larger orders into several requests` })
  count?: number;

  @ApiPropertyOptional({ type: [String], description: `One button per entry, granted to that case (a case may appear several times); 1 to ${MAX_BATCH} entries` })
  @Omittable()
  @IsArray({ message: 'caseIds must be an array of case ids' })
  @ArrayMinSize(1, { message: 'caseIds must not be empty' })
  @ArrayMaxSize(MAX_BATCH, { message: `caseIds must hold at most ${MAX_BATCH} entries: split larger orders into several requests` })
  @IsUUID('all', { each: true, message: 'each entry of caseIds must be a case id (UUID)' })
  caseIds?: string[];

  @ApiPropertyOptional({ description: 'Length of the grants with `caseIds`, months (default AMR_GRANT_MONTHS)', example: 6 })
  @Omittable() @IsInt() @Min(1) @Max(60)
  grantMonths?: number;

  @ApiPropertyOptional({ type: [String], description: 'The SIMs\' numbers (E.164), one per device in order: as many entries as devices' })
  @Omittable()
  @IsArray({ message: 'msisdns must be an array of E.164 numbers' })
  @ArrayMaxSize(MAX_BATCH)
  @Matches(E164, { each: true, message: `each entry of msisdns ${E164_MESSAGE}` })
  msisdns?: string[];
}

export class AssignDto extends DeviceSettingsDto {
  @ApiProperty({ description: 'The protection case the prosecutor granted the button for' })
  @IsUUID()
  caseId: string;

  @ApiPropertyOptional({ description: 'Length of the grant, months (default AMR_GRANT_MONTHS)', example: 6 })
  @Omittable() @IsInt() @Min(1) @Max(60)
  grantMonths?: number;
}

export class RenewDto {
  @ApiPropertyOptional({ description: 'Months added to the grant (default AMR_GRANT_MONTHS)', example: 6 })
  @Omittable() @IsInt() @Min(1) @Max(60)
  months?: number;
}

/** The furthest a page may start (far beyond any fleet, well inside a database integer). */

const toBoolean = ({ value }: { value: unknown }) => (value === 'true' ? true : value === 'false' ? false : value);

export class ListDevicesQuery extends PageQuery {
  @ApiPropertyOptional() @Omittable() @IsUUID()
  caseId?: string;

  @ApiPropertyOptional({ description: 'The home CIC of the device’s case', example: 'cic-antwerpen' })
  @Omittable() @IsString() @Length(1, 100)
  cicId?: string;

  @ApiPropertyOptional({ description: 'Connected to the broker now' })
  @Omittable() @Transform(toBoolean) @IsBoolean()
  online?: boolean;

  @ApiPropertyOptional({ description: 'Last reported battery below this percent' })
  @Omittable() @Type(() => Number) @IsInt() @Min(0) @Max(101)
  batteryBelow?: number;

  @ApiPropertyOptional({ description: 'With (true) or without (false) an open `silent` alert' })
  @Omittable() @Transform(toBoolean) @IsBoolean()
  silent?: boolean;

  @ApiPropertyOptional({ enum: ['stock', 'active', 'expired'], description: 'stock: no case; active: a running grant; expired: the grant has ended' })
  @Omittable() @IsIn(['stock', 'active', 'expired'])
  grant?: 'stock' | 'active' | 'expired';

}

/** POST /devices/{id}/certificate (CONTRACT §1 certificates). */
export class CertificateRequestDto {
  @ApiProperty({
    description: 'PKCS#10 certificate signing request, PEM, signed with the device\'s key: subject CN = the device id; RSA 2048-4096 bits or EC P-256/P-384, SHA-256 or stronger',
    example: '-----BEGIN CERTIFICATE REQUEST-----\nMIHt…\n-----END CERTIFICATE REQUEST-----\n',
    maxLength: 16_384,
  })
  @IsString({ message: 'csr must be a PEM certificate signing request (a string)' })
  @MaxLength(16_384, { message: 'csr must be at most 16384 characters' })
  csr: string;
}

export class CertificateIssuedDto {
  @ApiProperty({ example: 'btn-4f2a9c' }) deviceId: string;
  @ApiProperty({ description: 'The certificate, PEM: the device presents it with its key when it connects over TLS' }) certificate: string;
  @ApiProperty({ description: 'Serial number, hex' }) serial: string;
  @ApiProperty({ description: 'SHA-256 of the DER certificate, hex: the one certificate the broker admits the device with' }) fingerprint: string;
  @ApiProperty({ description: 'End of validity, ISO 8601' }) notAfter: string;
}
