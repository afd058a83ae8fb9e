import { ConflictException, Inject, Injectable } from '@nestjs/common';
import { Not, type DataSource } from 'typeorm';
import { Alarm, Device } from '@amr/persistence';
import { compact } from '@amr/protocol';
import type { AmrConfig } from '@amr/config';
import { AMR_CONFIG, DATA_SOURCE } from '@amr/runtime';
import type { Scope } from '@amr/alarms';
import type { AssignDto, RenewDto } from './devices.dto.js';
import { addMonths, checkHeartbeat, findDevice, grantDetails, openCase, recordDeviceEvent } from './device-records.js';
import { DeviceReads, type DeviceHealth } from './device-reads.js';
import { DeviceSettings } from './device-settings.js';

/**
 * The grant lifecycle: a prosecutor's grant assigns a button to a case until it expires (supervision
 * runs meanwhile), renewed or ended by unassigning.
 */
@Injectable()
export class DeviceGrants {
  constructor(
    @Inject(DATA_SOURCE) private readonly db: DataSource,
    @Inject(AMR_CONFIG) private readonly config: AmrConfig,
    private readonly settings: DeviceSettings,
    private readonly reads: DeviceReads,
  ) {}

  /** The prosecutor granted the button to a case: supervision starts now, until the grant expires. */
  async assign(scope: Scope, id: string, dto: AssignDto): Promise<DeviceHealth> {
    checkHeartbeat(this.config, dto);
    const before = await this.db.transaction(async (tx) => {
      const device = await findDevice(tx, id, true);
      if (device.caseId) {
        throw new ConflictException(`Device ${id} is assigned to case ${device.caseId}: unassign it first (POST /api/v1/devices/${id}/unassign)`);
      }
      if (!device.active) throw new ConflictException(`Device ${id} is deactivated; provision a new one`);
      const protectionCase = await openCase(tx, dto.caseId);
      const now = new Date();
      const grant = { caseId: protectionCase.id, assignedAt: now, grantExpiresAt: addMonths(now, dto.grantMonths ?? this.config.supervision.grantMonths) };
      // The device's own settings, else the case's.
      const settings = compact({ heartbeatS: dto.heartbeatS ?? protectionCase.heartbeatS ?? undefined, graceS: dto.graceS ?? protectionCase.graceS ?? undefined });
      await tx.update(Device, { id }, { ...grant, ...settings });
      await recordDeviceEvent(tx, id, scope, 'assigned', { ...grantDetails(grant), ...settings }, now);
      return { device, heartbeatS: settings.heartbeatS as number | undefined };
    });
    await this.settings.sendHeartbeat(scope, before.device, before.heartbeatS);
    return this.reads.health(id);
  }

  /** The grant ended: the button goes back to stock and is no longer supervised. */
  async unassign(scope: Scope, id: string): Promise<DeviceHealth> {
    await this.db.transaction(async (tx) => {
      const device = await findDevice(tx, id, true);
      if (!device.caseId) throw new ConflictException(`Device ${id} is not assigned to a case`);
      const open = await tx.findOne(Alarm, { where: { deviceId: id, stage: Not('closed') }, select: { id: true } });
      if (open) throw new ConflictException(`Device ${id} has an open alarm (${open.id}): close it before unassigning the device`);
      await tx.update(Device, { id }, { caseId: null, assignedAt: null, grantExpiresAt: null });
      await recordDeviceEvent(tx, id, scope, 'unassigned', { caseId: device.caseId, grantExpiresAt: device.grantExpiresAt?.toISOString() ?? null });
    });
    return this.reads.health(id);
  }

  /** The grant is extended by `months` from its end (or from now, if it has already ended). */
  async renew(scope: Scope, id: string, dto: RenewDto): Promise<DeviceHealth> {
    await this.db.transaction(async (tx) => {
      const device = await findDevice(tx, id, true);
      if (!device.caseId) throw new ConflictException(`Device ${id} is not assigned to a case: assign it (POST /api/v1/devices/${id}/assign)`);
      const now = new Date();
      const from = device.grantExpiresAt && device.grantExpiresAt > now ? device.grantExpiresAt : now;
      const months = dto.months ?? this.config.supervision.grantMonths;
      const grantExpiresAt = addMonths(from, months);
      await tx.update(Device, { id }, { grantExpiresAt });
      await recordDeviceEvent(tx, id, scope, 'renewed', { caseId: device.caseId, months, before: device.grantExpiresAt?.toISOString() ?? null, grantExpiresAt: grantExpiresAt.toISOString() }, now);
    });
    return this.reads.health(id);
  }
}
