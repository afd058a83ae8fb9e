import { Inject, Injectable, Logger } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import type { Client, PublishPacket } from 'aedes';
import { decodeMap, parseDeviceTopic } from '@amr/protocol';
import { DATA_SOURCE, Metrics } from '@amr/runtime';
import { DeviceAuthenticator } from './device-authenticator.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Commands (CONTRACT §3 cmd) in the database's terms: a command the API stored carries its id as
 * the extra key `id`; when the device PUBACKs it (aedes `ack`), it is marked `delivered`. (The
 * routing service re-sends unacknowledged ones when the device subscribes: PendingCommands.)
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
    const id = decoded.ok ? decoded.value.map.id : undefined;
    if (typeof id !== 'string' || !UUID.test(id)) return; // a platform command without a row (e.g. locEvery)
    this.db
      .query(
        `UPDATE device_commands SET state = 'delivered', delivered_at = now()
         WHERE id = $1 AND device_id = $2 AND state <> 'delivered' RETURNING id`,
        [id, principal.deviceId],
      )
      .then((result: unknown) => {
        if (Array.isArray(result) && Array.isArray(result[0]) && result[0].length > 0) this.metrics.commandsDelivered.inc();
      })
      .catch((err: unknown) => this.logger.error(`${principal.deviceId}: delivery of command ${id} not recorded: ${String(err)}`));
  };
}
