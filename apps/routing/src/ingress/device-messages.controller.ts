import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, MqttContext } from '@nestjs/microservices';
import { deviceTopic, isDeviceId, parseDeviceTopic, upTopicFilter } from '@amr/protocol';
import { AlarmService } from '@amr/alarms';
import { AlarmPipeline } from '../alarms/alarm.pipeline.js';
import { TelemetryService } from '../telemetry/telemetry.service.js';
import { PendingCommands } from '../devices/pending-commands.js';

/** aedes announces every granted SUBSCRIBE here. */
export const SUBSCRIBES_TOPIC = '$SYS/+/new/subscribes';

/** Device → platform topics (CONTRACT §2), consumed at QoS 1 as raw bytes. */
@Controller()
export class DeviceMessagesController {
  constructor(
    private readonly alarms: AlarmPipeline,
    private readonly lifecycle: AlarmService,
    private readonly telemetry: TelemetryService,
    private readonly commands: PendingCommands,
  ) {}

  @EventPattern<string>(upTopicFilter('alarm'), { qos: 1 })
  onAlarm(@Ctx() ctx: MqttContext): Promise<void> {
    const { deviceId } = parseDeviceTopic(ctx.getTopic())!;
    return this.alarms.handle(deviceId, ctx.getPacket().payload);
  }

  @EventPattern<string>(upTopicFilter('loc'), { qos: 1 })
  onLocation(@Ctx() ctx: MqttContext): Promise<void> {
    const { deviceId } = parseDeviceTopic(ctx.getTopic())!;
    return this.telemetry.onLocation(deviceId, ctx.getPacket().payload);
  }

  @EventPattern<string>(upTopicFilter('status'), { qos: 1 })
  onStatus(@Ctx() ctx: MqttContext): Promise<void> {
    const { deviceId } = parseDeviceTopic(ctx.getTopic())!;
    return this.telemetry.onStatus(deviceId, ctx.getPacket().payload);
  }

  /**
   * aedes announces every granted SUBSCRIBE on $SYS. A device listening again is given what the
   * database says it is owed: the current stage of its open alarm, its unacknowledged commands.
   */
  @EventPattern<string>(SUBSCRIBES_TOPIC, { qos: 0 })
  async onSubscribe(@Ctx() ctx: MqttContext): Promise<void> {
    const { clientId, subs } = JSON.parse(ctx.getPacket().payload.toString('utf8')) as { clientId: string; subs: { topic: string; qos: number }[] };
    if (!isDeviceId(clientId)) return;
    const granted = (channel: 'ack' | 'cmd') => subs.some((s) => s.topic === deviceTopic(clientId, channel) && s.qos !== 0x80);
    if (granted('ack')) await this.lifecycle.remindDevice(clientId);
    if (granted('cmd')) await this.commands.resend(clientId);
  }
}
