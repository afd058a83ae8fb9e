import { Injectable, Logger } from '@nestjs/common';
import type { Client, PublishPacket, Subscription } from 'aedes';
import {
  MAX_PAYLOAD_BYTES,
  UP_CHANNELS,
  DOWN_CHANNELS,
  detectEncoding,
  encodePayload,
  makeAck,
  parseDeviceTopic,
  deviceTopic,
  type UpChannel,
  type DownChannel,
} from '@amr/protocol';
import { Metrics } from '@amr/runtime';
import { DeviceAuthenticator } from './device-authenticator.js';

/** A publish the broker makes itself (a `rejected` ack for an oversize press, a re-sent command). */
export type BrokerPublish = (packet: PublishPacket) => Promise<void>;

/**
 * aedes `authorizePublish` / `authorizeSubscribe` hooks: the topic ACL of CONTRACT §2 and the
 * 1 KiB payload limit of CONTRACT §3. A device publishes only on its own up topics and subscribes
 * only to its own down topics; anything else is refused and counted. The platform's internal
 * clients are not restricted.
 */
@Injectable()
export class TopicPolicy {
  private readonly logger = new Logger('MqttAcl');
  private publishOnBehalf: BrokerPublish = async () => undefined;

  constructor(private readonly auth: DeviceAuthenticator, private readonly metrics: Metrics) {}

  bind(publish: BrokerPublish): void {
    this.publishOnBehalf = publish;
  }

  readonly authorizePublish = (
    client: Client | null,
    packet: PublishPacket,
    callback: (error?: Error | null) => void,
  ): void => {
    if (!client) return callback(null); // a will published by the broker itself
    const principal = this.auth.principalOf(client);
    if (principal?.kind === 'internal') return callback(null);
    const target = parseDeviceTopic(packet.topic);
    if (!principal || !target || target.deviceId !== principal.deviceId || !isUp(target.channel)) {
      // MQTT 3.1.1 [MQTT-3.3.5-2]: no way to refuse a PUBLISH but to close the connection.
      this.metrics.publishRefused.inc({ reason: 'topic' });
      this.logger.warn(`${client.id}: publish to ${packet.topic} refused (not its own up topic)`);
      return callback(new Error(`publish to ${packet.topic} not authorized`));
    }
    const bytes = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
    const size = bytes.length;
    if (size > MAX_PAYLOAD_BYTES) {
      this.metrics.publishRefused.inc({ reason: 'payload-too-large' });
      this.metrics.deviceMessagesRejected.inc({ channel: target.channel, code: 'oversize' });
      const refuse = () => callback(new Error(`payload of ${size} bytes exceeds ${MAX_PAYLOAD_BYTES}`));
      if (target.channel !== 'alarm') return refuse();
      // CONTRACT §3: a bad press is answered with `rejected`, never dropped in silence.
      const ack = makeAck('rejected', { reason: `payload too large: ${size} bytes, max ${MAX_PAYLOAD_BYTES}` });
      const payload = encodePayload(ack, detectEncoding(bytes) ?? 'cbor');
      this.publishOnBehalf({
        cmd: 'publish',
        topic: deviceTopic(principal.deviceId, 'ack'),
        payload,
        qos: 1,
        retain: false,
        dup: false,
      } as PublishPacket).then(refuse, refuse);
      return;
    }
    callback(null);
  };

  readonly authorizeSubscribe = (
    client: Client,
    subscription: Subscription,
    callback: (error: Error | null, subscription?: Subscription | null) => void,
  ): void => {
    const principal = this.auth.principalOf(client);
    if (principal?.kind === 'internal') return callback(null, subscription);
    const target = parseDeviceTopic(subscription.topic);
    if (!principal || !target || target.deviceId !== principal.deviceId || !isDown(target.channel)) {
      this.metrics.subscribeRefused.inc();
      this.logger.warn(`${client.id}: subscription to ${subscription.topic} refused`);
      return callback(null, null); // SUBACK 0x80
    }
    callback(null, { ...subscription, qos: Math.min(subscription.qos, 1) as 0 | 1 });
  };
}

function isUp(channel: string): channel is UpChannel {
  return (UP_CHANNELS as readonly string[]).includes(channel);
}

function isDown(channel: string): channel is DownChannel {
  return (DOWN_CHANNELS as readonly string[]).includes(channel);
}
