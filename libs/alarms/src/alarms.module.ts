import { forwardRef, Module } from '@nestjs/common';
import { DeviceLinkModule } from '@amr/runtime';
import { AlarmService } from './alarm.service.js';
import { WebhooksModule } from './webhooks/webhooks.module.js';

@Module({
  imports: [DeviceLinkModule, forwardRef(() => WebhooksModule)],
  providers: [AlarmService],
  exports: [AlarmService, DeviceLinkModule],
})
export class AlarmsModule {}
