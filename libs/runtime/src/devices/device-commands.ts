import { Inject, Injectable, Logger } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { preparedQuery, returned, type DeviceCommandState } from '@amr/persistence';
import { withCommandId, type CmdMessage, type Encoding, type OutgoingCmd } from '@amr/protocol';
import { DATA_SOURCE } from '../process/tokens.js';
import { DeviceLink } from './device-link.js';

/** A stored command as the API shows it. */
export interface CommandView {
  id: string;
  body: Record<string, unknown>;
  state: DeviceCommandState;
  createdAt: string;
  sentAt: string | null;
  deliveredAt: string | null;
}

interface CommandRow {
  id: string;
  device_id: string;
  body: CmdMessage;
  state: DeviceCommandState;
  created_at: Date;
  sent_at: Date | null;
  delivered_at: Date | null;
}

interface PendingRow extends Pick<CommandRow, 'id' | 'device_id' | 'body' | 'state'> {
  encoding: Encoding;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Marks a stored command delivered: the device PUBACKed the `cmd` publish carrying its id. The
 * broker calls it from its `ack` event. Resolves whether this call recorded the delivery (false:
 * not a stored command of this device, or delivered already).
 */
export async function markCommandDelivered(db: DataSource, deviceId: string, commandId: unknown): Promise<boolean> {
  if (typeof commandId !== 'string' || !UUID.test(commandId)) return false; // a platform command without a row (e.g. locEvery)
  const result: unknown = await db.query(
    `UPDATE device_commands SET state = 'delivered', delivered_at = now()
      WHERE id = $1 AND device_id = $2 AND state <> 'delivered' RETURNING id`,
    [commandId, deviceId],
  );
  return returned(result).length > 0;
}

/**
 * The one owner of device commands (CONTRACT §3 cmd) and of the `device_commands` table: a
 * command is stored `queued`, published QoS 1 with its id as the extra key `id` and marked `sent`;
 * the device's PUBACK marks it `delivered` (markCommandDelivered, in the broker); a device that
 * subscribes to `cmd` again — a new session, or one a broker restart lost — gets its unacknowledged
 * commands again, oldest first (resendPending). The database, not a broker's memory, holds what is
 * owed to a device.
 *
 * Commands the platform sends in the course of an alarm (the location period) are not stored:
 * they follow the alarm, and a device that reconnects is told its alarm's stage again.
 */
@Injectable()
export class DeviceCommands {
  private readonly logger = new Logger('DeviceCommands');

  constructor(
    @Inject(DATA_SOURCE) private readonly db: DataSource,
    private readonly link: DeviceLink,
  ) {}

  /** Stores the command, then publishes it. A publish that fails leaves it `queued`: it goes out when the device subscribes again. */
  async send(deviceId: string, encoding: Encoding, cmd: CmdMessage): Promise<{ id: string; state: DeviceCommandState }> {
    const [row] = (await this.db.query(`INSERT INTO device_commands (device_id, body, state) VALUES ($1, $2::jsonb, 'queued') RETURNING id`, [deviceId, JSON.stringify(cmd)])) as { id: string }[];
    const id = row!.id;
    try {
      await this.link.sendCommand(deviceId, encoding, withCommandId(cmd, id));
    } catch (err) {
      this.logger.error(`${deviceId}: command ${id} not handed to the broker: ${String(err)}`);
      return { id, state: 'queued' };
    }
    // The device may already have acknowledged it: never step back from `delivered`.
    const result: unknown = await this.db.query(`UPDATE device_commands SET state = 'sent', sent_at = now() WHERE id = $1 AND state = 'queued' RETURNING id`, [id]);
    return { id, state: returned(result).length > 0 ? 'sent' : 'delivered' };
  }

  /** A command that follows an alarm and is not stored; a failure is logged (the alarm goes on). */
  async sendUnstored(deviceId: string, encoding: Encoding, cmd: OutgoingCmd): Promise<void> {
    await this.link.sendCommand(deviceId, encoding, cmd).catch((err: unknown) => {
      this.logger.error(`${deviceId}: ${cmd.cmd} command not sent: ${String(err)}`);
    });
  }

  /** A device's commands, newest first, with their state (queued, sent, delivered). */
  async list(deviceId: string, limit = 200): Promise<CommandView[]> {
    const rows = (await this.db.query(
      `SELECT id, body, state, created_at, sent_at, delivered_at FROM device_commands
        WHERE device_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2`,
      [deviceId, limit],
    )) as CommandRow[];
    return rows.map((c) => ({
      id: c.id,
      body: c.body as Record<string, unknown>,
      state: c.state,
      createdAt: new Date(c.created_at).toISOString(),
      sentAt: c.sent_at ? new Date(c.sent_at).toISOString() : null,
      deliveredAt: c.delivered_at ? new Date(c.delivered_at).toISOString() : null,
    }));
  }

  /**
   * Sends every device its unacknowledged commands, oldest first, and marks the queued ones sent.
   * Devices subscribing together are served together: one read and one update for all of them. A
   * device whose commands cannot be sent is logged and left for its next subscription; the others
   * are served all the same.
   */
  async resendPending(deviceIds: readonly string[]): Promise<void> {
    if (deviceIds.length === 0) return;
    const rows = (await preparedQuery(
      this.db,
      'pending-commands',
      `SELECT c.id, c.device_id, c.body, c.state, d.encoding
         FROM device_commands c JOIN devices d ON d.id = c.device_id
        WHERE c.device_id = ANY($1::text[]) AND c.state IN ('queued', 'sent')
        ORDER BY c.device_id, c.created_at, c.id`,
      [deviceIds],
    )) as unknown as PendingRow[];
    if (rows.length === 0) return;

    const byDevice = new Map<string, PendingRow[]>();
    for (const row of rows) byDevice.set(row.device_id, [...(byDevice.get(row.device_id) ?? []), row]);
    const sent: string[] = [];
    await Promise.all(
      [...byDevice].map(async ([deviceId, commands]) => {
        try {
          for (const command of commands) {
            await this.link.sendCommand(deviceId, command.encoding, withCommandId(command.body, command.id));
            if (command.state === 'queued') sent.push(command.id);
          }
          this.logger.log(`${deviceId}: ${commands.length} unacknowledged command(s) sent again`);
        } catch (err) {
          this.logger.error(`${deviceId}: unacknowledged commands not sent again: ${String(err)}`);
        }
      }),
    );
    if (sent.length === 0) return;
    await preparedQuery(
      this.db,
      'pending-commands-sent',
      `UPDATE device_commands SET state = 'sent', sent_at = $2 WHERE id = ANY($1::uuid[]) AND state = 'queued'`,
      [sent, new Date()],
    );
  }
}
