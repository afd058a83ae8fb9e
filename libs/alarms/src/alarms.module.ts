import { forwardRef, Module } from '@nestjs/common';
import { DeviceLinkModule } from '@amr/runtime';
import { AlarmService } from './alarm.service.js';
import { AuditTrail } from './audit/audit-trail.js';
import { DeliveryRecorder } from './delivery-recorder.js';
import { DeviceAcks } from './device-acks.js';
import { PersonalDataErasure } from './personal-data.js';
import { WebhooksModule } from './webhooks/webhooks.module.js';

@Module({
  imports: [DeviceLinkModule, forwardRef(() => WebhooksModule)],
  providers: [AlarmService, DeliveryRecorder, DeviceAcks, AuditTrail, PersonalDataErasure],
  exports: [AlarmService, DeviceAcks, AuditTrail, PersonalDataErasure, DeviceLinkModule],
})
export class AlarmsModule {}
