import { Module } from '@nestjs/common';
import { AlarmsModule } from '@amr/alarms';
import { DeviceMessagesController } from './ingress/device-messages.controller.js';
import { AlarmPipeline } from './alarms/alarm.pipeline.js';
import { TelemetryService } from './telemetry/telemetry.service.js';
import { CicRouter } from './alarms/cic-router.js';
import { EscalationService } from './alarms/escalation.service.js';
import { PendingCommands } from './devices/pending-commands.js';
import { SupervisionService } from './supervision/supervision.service.js';

/**
 * The routing service: consumes what devices publish (through MqttIngressServer), runs the alarm
 * pipeline, and keeps device telemetry. Needs RuntimeModule.
 */
@Module({
  imports: [AlarmsModule],
  controllers: [DeviceMessagesController],
  providers: [AlarmPipeline, CicRouter, EscalationService, TelemetryService, PendingCommands, SupervisionService],
})
export class RoutingModule {}
