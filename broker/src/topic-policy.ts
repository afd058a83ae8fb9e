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
import { DeviceFlooding, IngestPort, Metrics, logSafe } from '@amr/runtime';
import { DeviceAuthenticator } from './device-authenticator.js';

/** A publish the broker makes itself (a `rejected` ack for a refused press). */
export type BrokerPublish = (packet: PublishPacket) => Promise<void>;

/**
 * aedes `authorizePublish` / `authorizeSubscribe` hooks: the topic ACL of CONTRACT §2, the
 * payload limit of CONTRACT §3, and the hand-over of every accepted device message to the device
 * ingest of this process. A device publishes only on its own up topics and subscribes only to its
 * own down topics, at QoS 1 at most; anything else is refused and counted. The platform's internal
 * clients are not restricted.
 *
 * aedes sends the PUBACK only once authorizePublish has called back: a device message is
 * acknowledged after the ingest has dealt with it — a press after its commit (CONTRACT §3 ack).
 */
@Injectable()
export class TopicPolicy {
  private readonly logger = new Logger('MqttAcl');
  private publishOnBehalf: BrokerPublish = async () => undefined;

  constructor(
    private readonly auth: DeviceAuthenticator,
    private readonly ingest: IngestPort,
    private readonly metrics: Metrics,
  ) {}

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
      this.logger.warn(`${logSafe(client.id)}: publish to ${logSafe(packet.topic)} refused (not its own up topic)`);
      return callback(new Error('publish not authorized'));
    }
    const { deviceId } = principal;
    const bytes = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
    const refusal = packet.retain
      ? { code: 'retained', reason: 'retained publish refused: publish with retain off' }
      : bytes.length > MAX_PAYLOAD_BYTES
        ? { code: 'oversize', reason: `payload too large: ${bytes.length} bytes, max ${MAX_PAYLOAD_BYTES}` }
        : null;
    if (refusal) {
      // CONTRACT §2/§3: refused and counted, never stored or retained; a press is answered
      // `rejected` (once: the PUBACK that follows keeps the device from sending it again).
      packet.retain = false;
      this.metrics.publishRefused.inc({ reason: refusal.code });
      this.metrics.deviceMessagesRejected.inc({ channel: target.channel, code: refusal.code });
      if (target.channel !== 'alarm') return callback(null);
      const ack = makeAck('rejected', { reason: refusal.reason });
      this.publishOnBehalf({
        cmd: 'publish',
        topic: deviceTopic(deviceId, 'ack'),
        payload: encodePayload(ack, detectEncoding(bytes) ?? 'cbor'),
        qos: 1,
        retain: false,
        dup: false,
      } as PublishPacket).then(() => callback(null), () => callback(null));
      return;
    }
    this.ingest.publish(deviceId, target.channel, bytes).then(
      () => callback(null),
      (err: unknown) => {
        // A flooding device is cut off (and reported by the ingest); any other failure also
        // withholds the PUBACK, so the device sends the message again when it reconnects.
        if (!(err instanceof DeviceFlooding)) this.logger.error(`${deviceId}: ${target.channel} message not handled: ${String(err)}`);
        callback(err instanceof Error ? err : new Error(String(err)));
      },
    );
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
      this.logger.warn(`${logSafe(client.id)}: subscription to ${logSafe(subscription.topic)} refused`);
      return callback(null, null); // SUBACK 0x80
    }
    // CONTRACT §2: granted at QoS 1 at most (acks and commands are sent at QoS 1).
    callback(null, { ...subscription, qos: Math.min(subscription.qos, 1) as 0 | 1 });
  };

  /** aedes `subscribe` (after the SUBACK): a device listening on its down topics is owed a reminder. */
  readonly onSubscribe = (subscriptions: Subscription[], client: Client | null): void => {
    const principal = client ? this.auth.principalOf(client) : undefined;
    if (principal?.kind !== 'device') return;
    const channels = subscriptions
      .map((s) => parseDeviceTopic(s.topic))
      .filter((t): t is NonNullable<typeof t> => t?.deviceId === principal.deviceId && isDown(t.channel))
      .map((t) => t.channel as DownChannel);
    if (channels.length > 0) this.ingest.subscribed(principal.deviceId, channels);
  };
}

function isUp(channel: string): channel is UpChannel {
  return (UP_CHANNELS as readonly string[]).includes(channel);
}

function isDown(channel: string): channel is DownChannel {
  return (DOWN_CHANNELS as readonly string[]).includes(channel);
}
