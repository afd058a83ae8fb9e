import { Inject, Injectable, Logger } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import type { Client, PublishPacket } from 'aedes';
import { decodeMap, parseDeviceTopic } from '@amr/protocol';
import { DATA_SOURCE, Metrics, markCommandDelivered } from '@amr/runtime';
import { DeviceAuthenticator } from './device-authenticator.js';

/**
 * A device's PUBACK of a `cmd` publish (aedes `ack`) is the delivery of the stored command whose id
 * the publish carries (DeviceCommands owns the commands; this only hears the PUBACK).
 */
@Injectable()
export class CommandDelivery {
  private readonly logger = new Logger('MqttCommands');
  constructor(
    @Inject(DATA_SOURCE) private readonly db: DataSource,
    private readonly auth: DeviceAuthenticator,
    private readonly metrics: Metrics,
  ) {}

  /** aedes `ack`: the client PUBACKed a QoS 1 message; `packet` is the message it acknowledged. */
  readonly onAck = (packet: PublishPacket | { cmd: string } | undefined, client: Client): void => {
    if (!packet || packet.cmd !== 'publish') return;
    const { topic, payload } = packet as PublishPacket;
    const principal = this.auth.principalOf(client);
    const target = parseDeviceTopic(topic);
    if (principal?.kind !== 'device' || target?.channel !== 'cmd' || target.deviceId !== principal.deviceId) return;
    const decoded = decodeMap(typeof payload === 'string' ? Buffer.from(payload) : payload);
    if (!decoded.ok) return;
    const id = decoded.value.map.id;
    markCommandDelivered(this.db, principal.deviceId, id)
      .then((recorded) => {
        if (recorded) this.metrics.commandsDelivered.inc();
      })
      .catch((err: unknown) => this.logger.error(`${principal.deviceId}: delivery of command ${String(id)} not recorded: ${String(err)}`));
  };
}
