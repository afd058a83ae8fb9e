import { Module } from '@nestjs/common';
import { AlarmsModule } from '@amr/alarms';
import { AlarmPipeline } from '../alarms/alarm.pipeline.js';
import { PressStore } from '../alarms/press-store.js';
import { CicRouter } from '../alarms/cic-router.js';
import { TelemetryService } from '../telemetry/telemetry.service.js';
import { TelemetryStore } from '../telemetry/telemetry-store.js';
import { FloodingAlerts } from '../supervision/flooding-alerts.js';
import { DeviceIntake } from './device-intake.js';
import { Reminders } from './reminders.js';

/**
 * Device traffic into the platform: the alarm pipeline, telemetry and reminders, fed by the broker
 * of the same process through the IngestPort (docs/architecture.md). Needs RuntimeModule.
 */
@Module({
  imports: [AlarmsModule],
  providers: [DeviceIntake, AlarmPipeline, PressStore, CicRouter, TelemetryService, TelemetryStore, Reminders, FloodingAlerts],
  exports: [FloodingAlerts, DeviceIntake],
})
export class IngestModule {}
