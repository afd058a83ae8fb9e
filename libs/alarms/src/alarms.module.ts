import { Module } from '@nestjs/common';
import { DeviceLinkModule } from '@amr/runtime';
import { AlarmQueries } from './alarm-queries.js';
import { AlarmStages } from './alarm-stages.js';
import { AlarmAnnouncer } from './alarm-announcer.js';
import { AuditTrail } from './audit/audit-trail.js';
import { DeliveryRecorder } from './delivery-recorder.js';
import { DeviceAcks } from './device-acks.js';
import { PersonalDataErasure } from './personal-data.js';

/**
 * Alarms after they are stored: reading them (AlarmQueries), their delivery and stage changes
 * (AlarmStages), announcing changes (AlarmAnnouncer), telling the device (DeviceAcks), the audit
 * trail and personal-data erasure. The webhooks are a channel on top (WebhooksModule imports this).
 */
@Module({
  imports: [DeviceLinkModule],
  providers: [AlarmQueries, AlarmStages, AlarmAnnouncer, DeliveryRecorder, DeviceAcks, AuditTrail, PersonalDataErasure],
  exports: [AlarmQueries, AlarmStages, AlarmAnnouncer, DeviceAcks, AuditTrail, PersonalDataErasure, DeviceLinkModule],
})
export class AlarmsModule {}
