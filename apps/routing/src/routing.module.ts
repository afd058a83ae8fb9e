import { Module } from '@nestjs/common';
import { AlarmsModule, WebhooksModule } from '@amr/alarms';
import { IngestModule } from './ingest/ingest.module.js';
import { EscalationService } from './alarms/escalation.service.js';
import { SupervisionService } from './supervision/supervision.service.js';
import { EventRetention } from './events/event-retention.js';
import { PersonalDataRetention } from './retention/personal-data-retention.js';

/**
 * The routing service: the device ingest (IngestModule, run by a broker in the same process) and
 * the sweeps over stored state — escalation of alarms no CIC has taken, device supervision, the
 * event log's retention and personal-data retention.
 * Needs RuntimeModule.
 */
@Module({
  imports: [AlarmsModule, WebhooksModule, IngestModule],
  providers: [EscalationService, SupervisionService, EventRetention, PersonalDataRetention],
})
export class RoutingModule {}
