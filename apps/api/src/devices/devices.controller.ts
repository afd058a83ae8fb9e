import { Body, Controller, Get, HttpCode, Param, Patch, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiTags } from '@nestjs/swagger';
import { AdminOnly } from '../auth/auth.guard.js';
import { CreateDeviceDto, DeviceSettingsDto } from './devices.dto.js';
import { DevicesService } from './devices.service.js';

@ApiTags('devices')
@ApiBearerAuth()
@AdminOnly()
@Controller('devices')
export class DevicesController {
  constructor(private readonly devices: DevicesService) {}

  /** Provisions a button for a case → `{deviceId, secret}` (the secret is shown once). */
  @Post()
  create(@Body() dto: CreateDeviceDto) {
    return this.devices.create(dto);
  }

  @Get(':id')
  health(@Param('id') id: string) {
    return this.devices.health(id);
  }

  @Patch(':id')
  update(@Param('id') id: string, @Body() dto: DeviceSettingsDto) {
    return this.devices.update(id, dto);
  }

  @Post(':id/deactivate')
  @HttpCode(200)
  deactivate(@Param('id') id: string) {
    return this.devices.deactivate(id);
  }

  @Post(':id/rotate-secret')
  @HttpCode(200)
  rotateSecret(@Param('id') id: string) {
    return this.devices.rotateSecret(id);
  }

  /** `{cmd: config|locate|vibrate, …}` (CONTRACT §3 cmd) → `{id, state}`. */
  @Post(':id/commands')
  @ApiBody({ schema: { type: 'object', example: { cmd: 'config', hb: 3600, locEvery: 15 } } })
  command(@Param('id') id: string, @Body() body: unknown) {
    return this.devices.command(id, body);
  }
}
