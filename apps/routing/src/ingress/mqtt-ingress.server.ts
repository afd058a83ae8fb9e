import { ServerMqtt, type MqttOptions } from '@nestjs/microservices';
import type { ConsumerDeserializer, IncomingEvent } from '@nestjs/microservices';
import type { IPublishPacket, MqttClient } from 'mqtt';
import type { AmrConfig } from '@amr/config';
import { upTopicFilter } from '@amr/protocol';
import { SUBSCRIBES_TOPIC } from './device-messages.controller.js';

/**
 * Presses must never wait behind heartbeats: a connection processes one message at a time (see
 * below), so presses (and ack-topic subscriptions, which trigger reminders) have a lane of their
 * own, and status and position reports another.
 */
export const INGRESS_LANES = {
  alarms: [upTopicFilter('alarm'), SUBSCRIBES_TOPIC],
  telemetry: [upTopicFilter('status'), upTopicFilter('loc')],
} as const satisfies Record<string, readonly string[]>;
export type IngressLane = keyof typeof INGRESS_LANES;

/**
 * STACK_NOTES: the default deserializer parses payloads as JSON (CBOR arrives corrupted) and unwraps
 * objects with `pattern`/`data`/`id` keys. Handlers read the raw bytes from `ctx.getPacket().payload`;
 * this deserializer only names the pattern, so nothing a device sends is ever treated as an RPC.
 */
class RawPayloadDeserializer implements ConsumerDeserializer {
  deserialize(_value: unknown, options?: Record<string, unknown>): IncomingEvent {
    return { pattern: String(options?.channel ?? ''), data: undefined };
  }
}

/**
 * The NestJS MQTT transport, with one change: a QoS 1 message is PUBACKed to the broker only after
 * its handler has finished (for a press: after the commit and the `received` ack). mqtt.js calls
 * `handleMessage` before it sends the PUBACK and processes one message at a time, so a crash in the
 * middle of a handler leaves the message unacknowledged and the broker delivers it again to this
 * persistent session (clean session false); the pipeline's dedupe on (device, seq) makes that safe.
 */
export class MqttIngressServer extends ServerMqtt {
  constructor(options: Required<MqttOptions>['options'], private readonly lane: IngressLane) {
    super({ ...options, deserializer: new RawPayloadDeserializer() });
  }

  /** One server per lane: each has its own connection, so its messages never queue behind the other's. */
  static forConfig(config: AmrConfig, lane: IngressLane): MqttIngressServer {
    return new MqttIngressServer({
      url: config.mqtt.url,
      clientId: `${config.internal.username}:routing-${lane}:${config.nodeId}`,
      username: config.internal.username,
      password: config.internal.password,
      protocolVersion: 4,
      clean: false,
      reconnectPeriod: 500,
      connectTimeout: 5000,
      maxConnectionAttempts: 20,
    }, lane);
  }

  override async createMqttClient(): Promise<MqttClient> {
    const client = (await super.createMqttClient()) as MqttClient;
    client.on('connect', () => (client.stream as { setNoDelay?: (v: boolean) => void }).setNoDelay?.(true));
    client.handleMessage = (packet: unknown, callback: (error?: Error) => void) => {
      const publish = packet as IPublishPacket;
      const payload = Buffer.isBuffer(publish.payload) ? publish.payload : Buffer.from(publish.payload);
      super
        .handleMessage(publish.topic, payload, client, publish)
        .catch((err: unknown) => this.logger.error(`${publish.topic}: handler failed: ${String(err)}`))
        .finally(() => callback());
    };
    return client;
  }

  /** Waits until the connection is really closed, so the broker can shut down after it cleanly. */
  override async close(): Promise<void> {
    const client = this.mqttClient as MqttClient | undefined;
    await client?.endAsync();
  }

  /** Subscribes like ServerMqtt, to its lane's patterns only, without its 'message' listener (handleMessage does the work). */
  override bindEvents(mqttClient: MqttClient): void {
    for (const [pattern, handler] of this.messageHandlers) {
      if (!INGRESS_LANES[this.lane].includes(pattern)) continue;
      const qos = (handler.extras?.qos as 0 | 1 | undefined) ?? 1;
      mqttClient.subscribe(pattern, { qos });
    }
  }
}
