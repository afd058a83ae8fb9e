import { Injectable, Logger } from '@nestjs/common';
import type { Client, PublishPacket, Subscription } from 'aedes';
import {
  MAX_PAYLOAD_BYTES,
  detectEncoding,
  encodePayload,
  makeAck,
  parseDeviceTopic,
  deviceTopic,
  isUpChannel,
  isDownChannel,
  DOWN_CHANNELS,
  type UpChannel,
  type DownChannel,
} from '@amr/protocol';
import { DeviceFlooding, IngestPort, Metrics, logSafe } from '@amr/runtime';
import { DeviceAuthenticator } from './device-authenticator.js';
import type { OversizeHandler } from './connection-gate.js';

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
    if (!principal || !target || target.deviceId !== principal.deviceId || !isUpChannel(target.channel)) {
      // MQTT 3.1.1 [MQTT-3.3.5-2]: no way to refuse a PUBLISH but to close the connection.
      this.metrics.publishRefused.inc({ reason: 'topic' });
      // Counted, and summarised in the log per interval (RefusalSummary): no line per attempt.
      this.logger.debug(`${logSafe(client.id)}: publish to ${logSafe(packet.topic)} refused (not its own up topic)`);
      return callback(new Error('publish not authorized'));
    }
    const { deviceId } = principal;
    const bytes = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
    const refusal = packet.retain
      ? { code: 'retained', reason: 'retained publish refused: publish with retain off' }
      : bytes.length > MAX_PAYLOAD_BYTES
        ? { code: 'oversize', reason: tooLarge(bytes.length) }
        : null;
    if (refusal) {
      packet.retain = false; // never stored as retained
      // The PUBACK that follows keeps the device from sending it again.
      void this.refuse(deviceId, target.channel, refusal, bytes).then(() => callback(null));
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

  /**
   * A device's PUBLISH over 4 KiB, of which only the head was read (ConnectionGate): refused like
   * any oversize payload when it is to one of the device's own up topics, else as a topic refusal.
   */
  readonly oversize: OversizeHandler = {
    accepts: (clientId, topic) => {
      const target = parseDeviceTopic(topic);
      const own = !!target && target.deviceId === clientId && isUpChannel(target.channel);
      if (!own) this.metrics.publishRefused.inc({ reason: 'topic' });
      return own;
    },
    answer: async (clientId, publish) => {
      const channel = parseDeviceTopic(publish.topic)!.channel as UpChannel;
      const head = publish.firstByte === undefined ? Buffer.alloc(0) : Buffer.of(publish.firstByte);
      await this.refuse(clientId, channel, { code: 'oversize', reason: tooLarge(publish.bytes) }, head);
    },
  };

  /**
   * CONTRACT §2/§3: a refused device message is counted, never stored or retained; a press is
   * answered `rejected` with the reason, in the encoding of the press (`head`: its first bytes).
   */
  private async refuse(deviceId: string, channel: UpChannel, refusal: { code: string; reason: string }, head: Buffer): Promise<void> {
    this.metrics.publishRefused.inc({ reason: refusal.code });
    this.metrics.deviceMessagesRejected.inc({ channel, code: refusal.code });
    if (channel !== 'alarm') return;
    const ack = makeAck('rejected', { reason: refusal.reason });
    await this.publishOnBehalf({
      cmd: 'publish',
      topic: deviceTopic(deviceId, 'ack'),
      payload: encodePayload(ack, detectEncoding(head) ?? 'cbor'),
      qos: 1,
      retain: false,
      dup: false,
    } as PublishPacket).catch(() => undefined);
  }

  readonly authorizeSubscribe = (
    client: Client,
    subscription: Subscription,
    callback: (error: Error | null, subscription?: Subscription | null) => void,
  ): void => {
    const principal = this.auth.principalOf(client);
    if (principal?.kind === 'internal') return callback(null, subscription);
    const target = parseDeviceTopic(subscription.topic);
    if (!principal || !target || target.deviceId !== principal.deviceId || !isDownChannel(target.channel)) {
      this.metrics.subscribeRefused.inc();
      this.logger.debug(`${logSafe(client.id)}: subscription to ${logSafe(subscription.topic)} refused`);
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
      .filter((t): t is NonNullable<typeof t> => t?.deviceId === principal.deviceId && isDownChannel(t.channel))
      .map((t) => t.channel as DownChannel);
    if (channels.length > 0) this.ingest.subscribed(principal.deviceId, channels);
  };

  /**
   * aedes `connackSent`: a device whose persistent session was restored does not SUBSCRIBE again,
   * and aedes replays only the messages its session store still holds (a message that reached the
   * session while the device was between nodes can miss it). It is reminded as if it had
   * subscribed: the database's current stage of its alarm and its unacknowledged commands.
   */
  readonly onSessionResumed = (connack: { sessionPresent?: boolean }, client: Client): void => {
    if (!connack.sessionPresent) return;
    const principal = this.auth.principalOf(client);
    if (principal?.kind === 'device') this.ingest.subscribed(principal.deviceId, DOWN_CHANNELS);
  };
}

function tooLarge(bytes: number): string {
  return `payload too large: ${bytes} bytes, max ${MAX_PAYLOAD_BYTES}`;
}

/**
 * CONTRACT §2: a subscription is granted QoS 1 at most. aedes writes the SUBACK with the QoS
 * asked for, whatever authorizeSubscribe returns, and stores a persistent session's subscriptions
 * as asked: so the SUBSCRIBE packet itself is capped as it is parsed, before aedes handles it.
 */
export function grantAtMostQos1(client: Client): void {
  const parser = (client as unknown as { _parser?: NodeJS.EventEmitter })._parser;
  parser?.prependListener('packet', (packet: { cmd?: string; subscriptions?: { qos: number }[] }) => {
    if (packet.cmd !== 'subscribe' || !packet.subscriptions) return;
    for (const sub of packet.subscriptions) if (sub.qos > 1) sub.qos = 1;
  });
}
