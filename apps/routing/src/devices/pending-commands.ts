import { Inject, Injectable, Logger } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { preparedQuery, type DeviceCommandState } from '@amr/persistence';
import { withCommandId, type CmdMessage, type Encoding } from '@amr/protocol';
import { DATA_SOURCE, DeviceLink } from '@amr/runtime';

interface PendingRow {
  id: string;
  device_id: string;
  body: CmdMessage;
  state: DeviceCommandState;
  encoding: Encoding;
}

/**
 * The database, not the broker's memory, holds what is owed to a device: when it subscribes to its
 * `cmd` topic — a new session, or one a broker restart lost — the commands it has not acknowledged
 * yet are sent again, oldest first. (The broker marks a command delivered on the device's PUBACK.)
 * Devices subscribing together are served together: one read and one update for all of them.
 */
@Injectable()
export class PendingCommands {
  private readonly logger = new Logger('PendingCommands');

  constructor(
    @Inject(DATA_SOURCE) private readonly db: DataSource,
    private readonly link: DeviceLink,
  ) {}

  /**
   * Sends every device its unacknowledged commands, oldest first, and marks the queued ones sent.
   * A device whose commands cannot be sent is logged and left for its next subscription; the
   * others are served all the same.
   */
  async resendAll(deviceIds: readonly string[]): Promise<void> {
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
