import { Module } from '@nestjs/common';
import { APP_FILTER, APP_GUARD, APP_INTERCEPTOR } from '@nestjs/core';
import { AlarmsModule, WebhooksModule } from '@amr/alarms';
import { SmsModule } from '@amr/routing';
import { AuthGuard } from './auth/auth.guard.js';
import { HttpExceptionFilter } from './common/http-exception.filter.js';
import { HealthController } from './health/health.controller.js';
import { CicsController, CicsService } from './cics/cics.controller.js';
import { IntegrationsController, IntegrationsService } from './integrations/integrations.controller.js';
import { CasesController, CasesService } from './cases/cases.controller.js';
import { DevicesController } from './devices/devices.controller.js';
import { DeviceGrants } from './devices/device-grants.js';
import { DeviceProvisioning } from './devices/device-provisioning.js';
import { DeviceReads } from './devices/device-reads.js';
import { DeviceSettings } from './devices/device-settings.js';
import { DeviceCertificatesService } from './devices/device-certificates.service.js';
import { AlarmsController } from './alarms/alarms.controller.js';
import { EventsController } from './events/events.controller.js';
import { AlertsController, AlertsService } from './alerts/alerts.controller.js';
import { StatsController, StatsService } from './stats/stats.controller.js';
import { SmsController } from './sms/sms.controller.js';
import { MeController, MeService } from './auth/me.controller.js';
import { AuditController } from './audit/audit.controller.js';
import { AuditInterceptor } from './audit/audit.interceptor.js';
import { RateLimits } from './limits/rate-limits.js';
import { SseStreams } from './limits/sse-streams.js';

/**
 * The HTTP API for CIC integrations and administration (CONTRACT §4), and the SMS gateway's route
 * (CONTRACT §6), whose presses this process stores through the device ingest. Needs RuntimeModule.
 */
@Module({
  imports: [AlarmsModule, WebhooksModule, SmsModule],
  controllers: [
    HealthController,
    CicsController,
    IntegrationsController,
    CasesController,
    DevicesController,
    AlarmsController,
    EventsController,
    AlertsController,
    StatsController,
    SmsController,
    MeController,
    AuditController,
  ],
  providers: [
    { provide: APP_GUARD, useClass: AuthGuard },
    { provide: APP_FILTER, useClass: HttpExceptionFilter },
    { provide: APP_INTERCEPTOR, useClass: AuditInterceptor },
    RateLimits,
    SseStreams,
    CicsService,
    IntegrationsService,
    CasesService,
    DeviceProvisioning,
    DeviceGrants,
    DeviceSettings,
    DeviceReads,
    DeviceCertificatesService,
    AlertsService,
    StatsService,
    MeService,
  ],
})
export class ApiModule {}
