import { BadRequestException, Inject, Injectable } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { Device } from '@amr/persistence';
import { CMD_LIMITS, compact, validateCmd } from '@amr/protocol';
import type { AmrConfig } from '@amr/config';
import { AMR_CONFIG, DATA_SOURCE, DeviceCommands } from '@amr/runtime';
import type { Scope } from '@amr/alarms';
import type { UpdateDeviceDto } from './devices.dto.js';
import { checkHeartbeat, findDevice, msisdnsFree, recordDeviceEvent } from './device-records.js';
import { DeviceReads, type DeviceHealth } from './device-reads.js';

/** A button's settings (heartbeat, grace, SIM number), a case's settings for its buttons, and commands to a button. */
@Injectable()
export class DeviceSettings {
  constructor(
    @Inject(DATA_SOURCE) private readonly db: DataSource,
    @Inject(AMR_CONFIG) private readonly config: AmrConfig,
    private readonly commands: DeviceCommands,
    private readonly reads: DeviceReads,
  ) {}

  /**
   * Settings and the SIM's number; a new heartbeat interval is also sent to the button (`config
   * hb`), tracked like any command.
   */
  async update(scope: Scope, id: string, dto: UpdateDeviceDto): Promise<DeviceHealth> {
    checkHeartbeat(this.config, dto);
    const before = await this.db.transaction(async (tx) => {
      const device = await findDevice(tx, id, true);
      const changes = compact({ heartbeatS: dto.heartbeatS, graceS: dto.graceS, msisdn: dto.msisdn === device.msisdn ? undefined : dto.msisdn });
      if (Object.keys(changes).length === 0) return device;
      if (changes.msisdn) await msisdnsFree(tx, [changes.msisdn]);
      await tx.update(Device, { id }, changes);
      await recordDeviceEvent(tx, id, scope, 'settings', { ...changes, before: compact({ heartbeatS: device.heartbeatS, graceS: device.graceS, msisdn: 'msisdn' in changes ? device.msisdn : undefined }) });
      return device;
    });
    await this.sendHeartbeat(scope, before, dto.heartbeatS);
    return this.reads.health(id);
  }

  /**
   * A case's heartbeat settings apply to every button granted to it: stored on the case (new grants
   * inherit them), set on its devices (each change in their history), sent to them (`config hb`).
   */
  async applyCaseSettings(scope: Scope, caseId: string, settings: { heartbeatS?: number; graceS?: number }): Promise<void> {
    checkHeartbeat(this.config, settings);
    const devices = await this.db.getRepository(Device).find({ where: { caseId }, select: { id: true } });
    for (const { id } of devices) await this.update(scope, id, settings);
  }

  /** CONTRACT §3 cmd config `hb`; intervals below its range (tests: AMR_MIN_HEARTBEAT_S) are supervised only. */
  async sendHeartbeat(scope: Scope, device: Pick<Device, 'id' | 'heartbeatS'>, heartbeatS: number | undefined): Promise<void> {
    if (heartbeatS === undefined || heartbeatS === device.heartbeatS) return;
    if (heartbeatS < CMD_LIMITS.hb.min || heartbeatS > CMD_LIMITS.hb.max) return;
    await this.command(scope, device.id, { cmd: 'config', hb: heartbeatS });
  }

  /** CONTRACT §3 cmd: stored, published and tracked by DeviceCommands; who asked is in the device's history. */
  async command(scope: Scope, id: string, body: unknown): Promise<{ id: string; state: string }> {
    const device = await findDevice(this.db.manager, id);
    const checked = validateCmd(body);
    if (!checked.ok) throw new BadRequestException(`Invalid command: ${checked.error.message}`);
    const command = await this.commands.send(id, device.encoding, checked.value);
    await recordDeviceEvent(this.db.manager, id, scope, 'command', { commandId: command.id, ...checked.value });
    return command;
  }
}
