import { randomBytes } from 'node:crypto';
import { BadRequestException, ConflictException, Inject, Injectable, Logger, NotFoundException, UnprocessableEntityException } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { Device, DeviceCommand, ProtectionCase } from '@amr/persistence';
import { validateCmd, type Encoding } from '@amr/protocol';
import { hashSecret, newSecret } from '@amr/security';
import { DATA_SOURCE, DeviceLink } from '@amr/runtime';
import type { CreateDeviceDto, DeviceSettingsDto } from './devices.dto.js';

/** CONTRACT §4 device health. */
export interface DeviceHealth {
  id: string;
  caseId: string | null;
  active: boolean;
  connected: boolean;
  lastSeenAt: string | null;
  battery: number | null;
  rsrp: number | null;
  fw: string | null;
  lastPosition: Record<string, unknown> | null;
  heartbeatS: number;
  graceS: number;
}

@Injectable()
export class DevicesService {
  private readonly logger = new Logger('Devices');

  constructor(@Inject(DATA_SOURCE) private readonly db: DataSource, private readonly link: DeviceLink) {}

  /** Provisions a button for a case; its secret is shown once and stored as an scrypt hash. */
  async create(dto: CreateDeviceDto): Promise<{ deviceId: string; secret: string; caseId: string }> {
    const protectionCase = await this.db.getRepository(ProtectionCase).findOne({ where: { id: dto.caseId } });
    if (!protectionCase) throw new UnprocessableEntityException(`Unknown case ${dto.caseId}: create it first with POST /api/v1/cases`);
    const deviceId = dto.deviceId ?? `btn-${randomBytes(6).toString('hex')}`;
    if (await this.db.getRepository(Device).exists({ where: { id: deviceId } })) {
      throw new ConflictException(`Device ${deviceId} already exists`);
    }
    const secret = newSecret();
    await this.db.getRepository(Device).insert({
      id: deviceId,
      caseId: protectionCase.id,
      secretHash: await hashSecret(secret),
      ...(dto.heartbeatS !== undefined ? { heartbeatS: dto.heartbeatS } : {}),
      ...(dto.graceS !== undefined ? { graceS: dto.graceS } : {}),
    });
    return { deviceId, secret, caseId: protectionCase.id };
  }

  async health(id: string): Promise<DeviceHealth> {
    return toHealth(await this.find(id));
  }

  async update(id: string, dto: DeviceSettingsDto): Promise<DeviceHealth> {
    const device = await this.find(id);
    if (dto.heartbeatS !== undefined) device.heartbeatS = dto.heartbeatS;
    if (dto.graceS !== undefined) device.graceS = dto.graceS;
    return toHealth(await this.db.getRepository(Device).save(device));
  }

  /** Refused from now on, and any live connection is cut (CONTRACT §4). */
  async deactivate(id: string): Promise<DeviceHealth> {
    const device = await this.find(id);
    device.active = false;
    device.deactivatedAt = new Date();
    await this.db.getRepository(Device).save(device);
    await this.link.kick(id);
    return toHealth(device);
  }

  /** A new secret; the old one stops working at once and a live connection is cut. */
  async rotateSecret(id: string): Promise<{ deviceId: string; secret: string }> {
    const device = await this.find(id);
    const secret = newSecret();
    device.secretHash = await hashSecret(secret);
    await this.db.getRepository(Device).save(device);
    await this.link.kick(id);
    return { deviceId: id, secret };
  }

  /** CONTRACT §3 cmd, published QoS 1; the broker holds it for a device with a persistent session. */
  async command(id: string, body: unknown): Promise<{ id: string; state: string }> {
    const device = await this.find(id);
    const checked = validateCmd(body);
    if (!checked.ok) throw new BadRequestException(`Invalid command: ${checked.error.message}`);
    const repo = this.db.getRepository(DeviceCommand);
    const command = await repo.save(repo.create({ deviceId: id, body: { ...checked.value }, state: 'queued' }));
    try {
      await this.link.sendCommand(id, device.encoding as Encoding, checked.value);
      command.state = 'sent';
      command.sentAt = new Date();
      await repo.save(command);
    } catch (err) {
      this.logger.error(`${id}: command ${command.id} not handed to the broker: ${String(err)}`);
    }
    return { id: command.id, state: command.state };
  }

  private async find(id: string): Promise<Device> {
    const device = await this.db.getRepository(Device).findOne({ where: { id } });
    if (!device) throw new NotFoundException(`No device ${id}`);
    return device;
  }
}

function toHealth(d: Device): DeviceHealth {
  return {
    id: d.id,
    caseId: d.caseId ?? null,
    active: d.active,
    connected: d.connected,
    lastSeenAt: d.lastSeenAt ? d.lastSeenAt.toISOString() : null,
    battery: d.battery ?? null,
    rsrp: d.rsrp ?? null,
    fw: d.fw ?? null,
    lastPosition: (d.lastPosition as Record<string, unknown> | null) ?? null,
    heartbeatS: d.heartbeatS,
    graceS: d.graceS,
  };
}
