import { Body, Controller, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import type { Scope } from '@amr/alarms';
import { AdminOnly, CallerScope } from '../auth/auth.guard.js';
import { uuidParam } from '../common/uuid.pipe.js';
import { CreateIntegrationDto, ListDeliveriesQuery, UpdateIntegrationDto } from './integrations.dto.js';
import { IntegrationsService } from './integrations.service.js';

export { IntegrationsService };

@ApiTags('integrations')
@ApiBearerAuth()
@Controller('integrations')
export class IntegrationsController {
  constructor(private readonly integrations: IntegrationsService) {}

  /** A CIC-scoped bearer token, and with `webhookUrl` a webhook signing secret (both shown once). */
  @Post()
  @AdminOnly()
  create(@Body() dto: CreateIntegrationDto) {
    return this.integrations.create(dto);
  }

  /** Every integration, revoked ones included; never a token or a secret. */
  @Get()
  @AdminOnly()
  list() {
    return this.integrations.list();
  }

  /** `{webhookUrl}` sets the webhook (a first one brings `webhookSecret`, shown once); `null` stops it. */
  @Patch(':id')
  @AdminOnly()
  update(@Param('id', uuidParam()) id: string, @Body() dto: UpdateIntegrationDto) {
    return this.integrations.update(id, dto);
  }

  /** → `{webhookSecret}`: requests are signed with it from now on. */
  @Post(':id/rotate-webhook-secret')
  @AdminOnly()
  @HttpCode(200)
  rotateWebhookSecret(@Param('id', uuidParam()) id: string) {
    return this.integrations.rotateWebhookSecret(id);
  }

  /** The token stops working and webhooks stop; pending deliveries are abandoned. */
  @Post(':id/revoke')
  @AdminOnly()
  @HttpCode(200)
  revoke(@Param('id', uuidParam()) id: string) {
    return this.integrations.revoke(id);
  }

  /** Recent webhook deliveries, newest first (the administrator, or the integration itself). */
  @Get(':id/deliveries')
  deliveries(@CallerScope() scope: Scope, @Param('id', uuidParam()) id: string, @Query() query: ListDeliveriesQuery) {
    return this.integrations.deliveries(scope, id, query);
  }
}
