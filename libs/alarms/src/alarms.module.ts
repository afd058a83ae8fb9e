import { Module } from '@nestjs/common';
import { DeviceLinkModule } from '@amr/runtime';
import { AlarmService } from './alarm.service.js';

@Module({
  imports: [DeviceLinkModule],
  providers: [AlarmService],
  exports: [AlarmService, DeviceLinkModule],
})
export class AlarmsModule {}
