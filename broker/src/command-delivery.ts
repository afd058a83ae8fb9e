import { Inject, Injectable, Logger } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import type { Client, PublishPacket, Subscription } from 'aedes';
import { Device, DeviceCommand } from '@amr/persistence';
import { decodeMap, deviceTopic, encodePayload, parseDeviceTopic, withCommandId, type CmdMessage, type Encoding } from '@amr/protocol';
import { DATA_SOURCE, Metrics } from '@amr/runtime';
import { DeviceAuthenticator } from './device-authenticator.js';
import type { BrokerPublish } from './topic-policy.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Commands (CONTRACT §3 cmd) in the database's terms: a command the API stored carries its id as
 * the extra key `id`. When the device PUBACKs it (aedes `ack`), it is marked `delivered`. When a
 * device subscribes to its `cmd` topic — a new session, or one the broker lost in a restart — the
 * commands it has not acknowledged yet are sent again, oldest first: the database, not the
 * broker's memory, holds what is owed to a device.
 */
@Injectable()
export class CommandDelivery {
  private readonly logger = new Logger('MqttCommands');
  private publish: BrokerPublish = async () => undefined;

  constructor(
    @Inject(DATA_SOURCE) private readonly db: DataSource,
    private readonly auth: DeviceAuthenticator,
    private readonly metrics: Metrics,
  ) {}

  bind(publish: BrokerPublish): void {
    this.publish = publish;
  }

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

  /** aedes `subscribe`: a device listening to its commands gets those it has not acknowledged. */
  readonly onSubscribe = (subscriptions: Subscription[], client: Client): void => {
    const principal = this.auth.principalOf(client);
    if (principal?.kind !== 'device') return;
    const cmdTopic = deviceTopic(principal.deviceId, 'cmd');
    if (!subscriptions.some((s) => s.topic === cmdTopic && (s.qos as number) !== 128)) return;
    this.resend(principal.deviceId).catch((err: unknown) =>
      this.logger.error(`${principal.deviceId}: pending commands not re-sent: ${String(err)}`),
    );
  };

  private async resend(deviceId: string): Promise<void> {
    const pending = await this.db.getRepository(DeviceCommand).find({
      where: [{ deviceId, state: 'queued' }, { deviceId, state: 'sent' }],
      order: { createdAt: 'ASC' },
    });
    if (pending.length === 0) return;
    const device = await this.db.getRepository(Device).findOne({ where: { id: deviceId }, select: { id: true, encoding: true } });
    const encoding = (device?.encoding ?? 'cbor') as Encoding;
    for (const command of pending) {
      await this.publish({
        cmd: 'publish',
        topic: deviceTopic(deviceId, 'cmd'),
        payload: encodePayload(withCommandId(command.body as CmdMessage, command.id), encoding),
        qos: 1,
        retain: false,
        dup: false,
      } as PublishPacket);
      if (command.state === 'queued') {
        await this.db.getRepository(DeviceCommand).update({ id: command.id, state: 'queued' }, { state: 'sent', sentAt: new Date() });
      }
    }
    this.logger.log(`${deviceId}: ${pending.length} unacknowledged command(s) sent again`);
  }
}
