import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiCreatedResponse, ApiTags } from '@nestjs/swagger';
import type { Scope } from '@amr/alarms';
import { AdminOnly, CallerScope } from '../auth/auth.guard.js';
import { deviceIdParam } from '../common/uuid.pipe.js';
import { AssignDto, CertificateIssuedDto, CertificateRequestDto, CreateDeviceDto, CreateDevicesBatchDto, ListDevicesQuery, RenewDto, UpdateDeviceDto } from './devices.dto.js';
import { DeviceGrants } from './device-grants.js';
import { DeviceProvisioning } from './device-provisioning.js';
import { DeviceReads } from './device-reads.js';
import { DeviceSettings } from './device-settings.js';
import { DeviceCertificatesService } from './device-certificates.service.js';

@ApiTags('devices')
@ApiBearerAuth()
@AdminOnly()
@Controller('devices')
export class DevicesController {
  constructor(
    private readonly provisioning: DeviceProvisioning,
    private readonly grants: DeviceGrants,
    private readonly settings: DeviceSettings,
    private readonly reads: DeviceReads,
    private readonly certificates: DeviceCertificatesService,
  ) {}

  /** Provisions a button, for a case or into stock → `{deviceId, secret}` (the secret is shown once). */
  @Post()
  create(@CallerScope() scope: Scope, @Body() dto: CreateDeviceDto) {
    return this.provisioning.create(scope, dto);
  }

  /**
   * CONTRACT §4 bulk provisioning: `{count}` into stock or `{caseIds: […]}`, at most 1,000, in one
   * transaction → `[{deviceId, secret, caseId?}]` (the secrets are shown once). Declared before the
   * `:id` routes.
   */
  @Post('batch')
  createBatch(@CallerScope() scope: Scope, @Body() dto: CreateDevicesBatchDto) {
    return this.provisioning.createBatch(scope, dto);
  }

  /** The fleet: `?caseId=&cicId=&online=&batteryBelow=&silent=&grant=stock|active|expired&limit=&offset=`. */
  @Get()
  list(@Query() query: ListDevicesQuery) {
    return this.reads.list(query);
  }

  @Get(':id')
  health(@Param('id', deviceIdParam()) id: string) {
    return this.reads.health(id);
  }

  @Patch(':id')
  update(@CallerScope() scope: Scope, @Param('id', deviceIdParam()) id: string, @Body() dto: UpdateDeviceDto) {
    return this.settings.update(scope, id, dto);
  }

  /** What was done to the device and by whom, its status reports and technical alerts. */
  @Get(':id/history')
  history(@Param('id', deviceIdParam()) id: string) {
    return this.reads.history(id);
  }

  @Post(':id/assign')
  @HttpCode(200)
  assign(@CallerScope() scope: Scope, @Param('id', deviceIdParam()) id: string, @Body() dto: AssignDto) {
    return this.grants.assign(scope, id, dto);
  }

  @Post(':id/unassign')
  @HttpCode(200)
  unassign(@CallerScope() scope: Scope, @Param('id', deviceIdParam()) id: string) {
    return this.grants.unassign(scope, id);
  }

  @Post(':id/renew')
  @HttpCode(200)
  renew(@CallerScope() scope: Scope, @Param('id', deviceIdParam()) id: string, @Body() dto: RenewDto) {
    return this.grants.renew(scope, id, dto);
  }

  @Post(':id/deactivate')
  @HttpCode(200)
  deactivate(@CallerScope() scope: Scope, @Param('id', deviceIdParam()) id: string) {
    return this.provisioning.deactivate(scope, id);
  }

  @Post(':id/rotate-secret')
  @HttpCode(200)
  rotateSecret(@CallerScope() scope: Scope, @Param('id', deviceIdParam()) id: string) {
    return this.provisioning.rotateSecret(scope, id);
  }

  /**
   * CONTRACT §1 certificates: `{csr}` (PEM, CN = the device id) → the device's client certificate,
   * signed by the device CA. It replaces (revokes) any certificate issued to the device before; the
   * secret is unchanged. 503 when the platform has no device CA.
   */
  @Post(':id/certificate')
  @ApiCreatedResponse({ type: CertificateIssuedDto })
  issueCertificate(@CallerScope() scope: Scope, @Param('id', deviceIdParam()) id: string, @Body() dto: CertificateRequestDto) {
    return this.certificates.issue(scope, id, dto.csr);
  }

  /** No certificate admits the device any more (its secret still does) → `{deviceId, revoked: serial or null}`. */
  @Delete(':id/certificate')
  revokeCertificate(@CallerScope() scope: Scope, @Param('id', deviceIdParam()) id: string) {
    return this.certificates.revoke(scope, id);
  }

  /** `{cmd: config|locate|vibrate, …}` (CONTRACT §3 cmd) → `{id, state}`. */
  @Post(':id/commands')
  @ApiBody({ schema: { type: 'object', example: { cmd: 'config', hb: 3600, locEvery: 15 } } })
  command(@CallerScope() scope: Scope, @Param('id', deviceIdParam()) id: string, @Body() body: unknown) {
    return this.settings.command(scope, id, body);
  }

  /** The device's commands with their state: queued, sent (to the broker), delivered (PUBACK from the device). */
  @Get(':id/commands')
  commands(@Param('id', deviceIdParam()) id: string) {
    return this.reads.commandsOf(id);
  }
}
