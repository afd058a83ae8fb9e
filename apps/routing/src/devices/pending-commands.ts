import { Inject, Injectable, Logger } from '@nestjs/common';
import { In, type DataSource } from 'typeorm';
import { DeviceCommand } from '@amr/persistence';
import { withCommandId, type CmdMessage } from '@amr/protocol';
import { DATA_SOURCE, DeviceLink } from '@amr/runtime';
import { AlarmService } from '@amr/alarms';

/**
 * The database, not the broker's memory, holds what is owed to a device: when it subscribes to its
 * `cmd` topic — a new session, or one a broker restart lost — the commands it has not acknowledged
 * yet are sent again, oldest first. (The broker marks a command delivered on the device's PUBACK.)
 */
@Injectable()
export class PendingCommands {
  private readonly logger = new Logger('PendingCommands');

  constructor(
    @Inject(DATA_SOURCE) private readonly db: DataSource,
    private readonly link: DeviceLink,
    private readonly alarms: AlarmService,
  ) {}

  async resend(deviceId: string): Promise<void> {
    const repo = this.db.getRepository(DeviceCommand);
    const pending = await repo.find({ where: { deviceId, state: In(['queued', 'sent']) }, order: { createdAt: 'ASC' } });
    if (pending.length === 0) return;
    const encoding = await this.alarms.encodingOf(deviceId);
    for (const command of pending) {
      await this.link.sendCommand(deviceId, encoding, withCommandId(command.body as CmdMessage, command.id));
      if (command.state === 'queued') await repo.update({ id: command.id, state: 'queued' }, { state: 'sent', sentAt: new Date() });
    }
    this.logger.log(`${deviceId}: ${pending.length} unacknowledged command(s) sent again`);
  }
}
