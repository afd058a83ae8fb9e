import { forwardRef, Module } from '@nestjs/common';
import { DeviceLinkModule } from '@amr/runtime';
import { AlarmService } from './alarm.service.js';
import { DeliveryRecorder } from './delivery-recorder.js';
import { DeviceAcks } from './device-acks.js';
import { PersonalDataErasure } from './personal-data.js';
import { WebhooksModule } from './webhooks/webhooks.module.js';

@Module({
  imports: [DeviceLinkModule, forwardRef(() => WebhooksModule)],
  providers: [AlarmService, DeliveryRecorder, DeviceAcks, PersonalDataErasure],
  exports: [AlarmService, DeviceAcks, PersonalDataErasure, DeviceLinkModule],
})
export class AlarmsModule {}
