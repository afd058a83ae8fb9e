import { connect, type MqttClient } from 'mqtt';
import { deviceTopic, encodePayload, type AckMessage, type OutgoingCmd, type Encoding } from '@amr/protocol';
import type { AmrConfig } from '@amr/config';
import type { BrokerAddress } from './broker-address.js';

/** Broker control topic: a publish here makes every broker node cut the device's connection. */
export const KICK_TOPIC_PREFIX = 'amr/v1/ctl/kick/';

/**
 * The platform's link to the devices: publishes acks and commands (QoS 1, CONTRACT §2) in the
 * device's encoding, and asks the broker to disconnect a device: straight into the broker when it
 * runs in the same process, else over one MQTT connection with the internal credentials, Nagle off
 * (Nagle and delayed ACKs would add tens of milliseconds to every ack).
 */
export class DeviceLink {
  private client: MqttClient | undefined;

  constructor(
    private readonly config: AmrConfig,
    private readonly broker: BrokerAddress,
    private readonly role: string,
  ) {}

  async connect(): Promise<void> {
    const client = connect(this.broker.url, {
      clientId: `${this.config.internal.username}:${this.role}:${this.config.nodeId}`,
      username: this.config.internal.username,
      password: this.config.internal.password,
      protocolVersion: 4,
      clean: true,
      reconnectPeriod: 500,
      connectTimeout: 5000,
    });
    client.on('connect', () => (client.stream as { setNoDelay?: (v: boolean) => void }).setNoDelay?.(true));
    this.client = client;
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error) => reject(err);
      client.once('connect', () => {
        client.off('error', onError);
        resolve();
      });
      client.once('error', onError);
    });
  }

  async close(): Promise<void> {
    await this.client?.endAsync();
  }

  get connected(): boolean {
    return this.client?.connected ?? false;
  }

  /** Resolves once the broker has taken the message (PUBACK). */
  sendAck(deviceId: string, encoding: Encoding, ack: AckMessage): Promise<void> {
    return this.publish(deviceTopic(deviceId, 'ack'), encodePayload(ack, encoding));
  }

  sendCommand(deviceId: string, encoding: Encoding, cmd: OutgoingCmd): Promise<void> {
    return this.publish(deviceTopic(deviceId, 'cmd'), encodePayload(cmd, encoding));
  }

  kick(deviceId: string): Promise<void> {
    return this.publish(KICK_TOPIC_PREFIX + deviceId, Buffer.alloc(0));
  }

  private async publish(topic: string, payload: Buffer): Promise<void> {
    if (this.broker.local) return this.broker.local(topic, payload);
    if (!this.client) throw new Error('DeviceLink used before connect()');
    await this.client.publishAsync(topic, payload, { qos: 1 });
  }
}
