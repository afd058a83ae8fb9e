import { randomBytes } from 'node:crypto';
import { BadRequestException, ConflictException, Inject, Injectable } from '@nestjs/common';
import type { DataSource, EntityManager } from 'typeorm';
import { Device, DeviceEvent, type ProtectionCase } from '@amr/persistence';
import { compact } from '@amr/protocol';
import { hashSecret, newSecret } from '@amr/security';
import type { AmrConfig } from '@amr/config';
import { AMR_CONFIG, DATA_SOURCE, DeviceLink } from '@amr/runtime';
import { actorOf, type Scope } from '@amr/alarms';
import type { CreateDeviceDto, CreateDevicesBatchDto, HardwareIdentityDto } from './devices.dto.js';
import { addMonths, checkHeartbeat, findDevice, grantDetails, msisdnsFree, openCase, openCases, recordDeviceEvent } from './device-records.js';
import { DeviceReads, type DeviceHealth } from './device-reads.js';

/**
 * A button's identity and credentials: provisioning (one, or a batch in one transaction), secret
 * rotation, deactivation. Secrets are shown once and stored as digests (CONTRACT §1); every change
 * is appended to the device's history with who did it, in the same transaction.
 */
@Injectable()
export class DeviceProvisioning {
  constructor(
    @Inject(DATA_SOURCE) private readonly db: DataSource,
    @Inject(AMR_CONFIG) private readonly config: AmrConfig,
    private readonly link: DeviceLink,
    private readonly reads: DeviceReads,
  ) {}

  /** Provisions a button (for a case, or into stock); its secret is shown once and stored as its digest (CONTRACT §1). */
  async create(scope: Scope, dto: CreateDeviceDto): Promise<{ deviceId: string; secret: string; caseId: string | null }> {
    checkHeartbeat(this.config, dto);
    const deviceId = dto.deviceId ?? newDeviceId();
    const secret = newSecret();
    await this.db.transaction(async (tx) => {
      const protectionCase = dto.caseId ? await openCase(tx, dto.caseId) : null;
      if (await tx.exists(Device, { where: { id: deviceId } })) throw new ConflictException(`Device ${deviceId} already exists`);
      if (dto.imei && (await tx.exists(Device, { where: { imei: dto.imei } }))) {
        throw new ConflictException(`A device with IMEI ${dto.imei} is already registered`);
      }
      await msisdnsFree(tx, dto.msisdn ? [dto.msisdn] : []);
      await this.insertDevices(tx, scope, [{ id: deviceId, secret, protectionCase, identity: dto, grantMonths: dto.grantMonths }]);
    });
    return { deviceId, secret, caseId: dto.caseId ?? null };
  }

  /**
   * CONTRACT §4 bulk provisioning: `count` buttons into stock, or one per entry of `caseIds`, all in
   * one transaction (an unknown or closed case stores none of them). Secrets are shown once.
   */
  async createBatch(scope: Scope, dto: CreateDevicesBatchDto): Promise<ProvisionedDevice[]> {
    const caseIds = batchCaseIds(dto);
    if (dto.msisdns && dto.msisdns.length !== caseIds.length) {
      throw new BadRequestException(`msisdns has ${dto.msisdns.length} entries for ${caseIds.length} devices: give one per device, or none`);
    }
    const secrets = caseIds.map(() => newSecret());
    const ids = await this.db.transaction(async (tx) => {
      const cases = await openCases(tx, caseIds.filter((id): id is string => id !== null));
      await msisdnsFree(tx, dto.msisdns ?? []);
      const ids = await freeDeviceIds(tx, caseIds.length);
      await this.insertDevices(
        tx,
        scope,
        ids.map((id, i) => ({ id, secret: secrets[i]!, protectionCase: caseIds[i] ? cases.get(caseIds[i])! : null, identity: { msisdn: dto.msisdns?.[i] }, grantMonths: dto.grantMonths })),
      );
      return ids;
    });
    return ids.map((deviceId, i) => ({ deviceId, secret: secrets[i]!, ...(caseIds[i] ? { caseId: caseIds[i] } : {}) }));
  }

  /**
   * Inserts new devices with their history (`provisioned`, and `assigned` for a case) in two
   * statements, whatever their number. A device granted to a case takes the case's heartbeat
   * settings unless it has its own.
   */
  private async insertDevices(tx: EntityManager, scope: Scope, devices: NewDevice[], now = new Date()): Promise<void> {
    const actor = actorOf(scope);
    const rows = devices.map(({ id, secret, protectionCase, identity, grantMonths }) => {
      const grant = protectionCase
        ? { caseId: protectionCase.id, assignedAt: now, grantExpiresAt: addMonths(now, grantMonths ?? this.config.supervision.grantMonths) }
        : {};
      const device = {
        id,
        secretHash: hashSecret(secret),
        imei: identity.imei ?? null,
        iccid: identity.iccid ?? null,
        model: identity.model ?? null,
        fw: identity.fw ?? null,
        msisdn: identity.msisdn ?? null,
        ...grant,
        ...compact({ heartbeatS: identity.heartbeatS ?? protectionCase?.heartbeatS ?? undefined, graceS: identity.graceS ?? protectionCase?.graceS ?? undefined }),
      };
      const details = compact({ imei: identity.imei, iccid: identity.iccid, model: identity.model, fw: identity.fw, msisdn: identity.msisdn, heartbeatS: identity.heartbeatS, graceS: identity.graceS });
      const events = [{ deviceId: id, actor, type: 'provisioned', details: details as Partial<typeof details>, at: now }];
      if (protectionCase) events.push({ deviceId: id, actor, type: 'assigned', details: grantDetails(grant), at: now });
      return { device, events };
    });
    await tx.insert(Device, rows.map((r) => r.device));
    await tx.insert(DeviceEvent, rows.flatMap((r) => r.events));
  }

  /** Refused from now on, and any live connection is cut (CONTRACT §4). */
  async deactivate(scope: Scope, id: string): Promise<DeviceHealth> {
    await this.db.transaction(async (tx) => {
      await findDevice(tx, id, true);
      const now = new Date();
      await tx.update(Device, { id }, { active: false, deactivatedAt: now });
      await recordDeviceEvent(tx, id, scope, 'deactivated', {}, now);
    });
    await this.link.kick(id);
    return this.reads.health(id);
  }

  /** A new secret; the old one stops working at once and a live connection is cut. */
  async rotateSecret(scope: Scope, id: string): Promise<{ deviceId: string; secret: string }> {
    const secret = newSecret();
    await this.db.transaction(async (tx) => {
      await findDevice(tx, id, true);
      await tx.update(Device, { id }, { secretHash: hashSecret(secret) });
      await recordDeviceEvent(tx, id, scope, 'secret-rotated', {});
    });
    await this.link.kick(id);
    return { deviceId: id, secret };
  }
}

/** A button about to be stored: its secret (stored as the digest), case, identity and settings. */
interface NewDevice {
  id: string;
  secret: string;
  protectionCase: ProtectionCase | null;
  identity: HardwareIdentityDto;
  grantMonths?: number;
}

export interface ProvisionedDevice {
  deviceId: string;
  secret: string;
  caseId?: string;
}

function newDeviceId(): string {
  return `btn-${randomBytes(6).toString('hex')}`;
}

/** `n` new device ids, none of them taken (48 random bits each: a clash is rare, and drawn again). */
async function freeDeviceIds(tx: EntityManager, n: number): Promise<string[]> {
  const ids = new Set<string>();
  for (;;) {
    while (ids.size < n) ids.add(newDeviceId());
    const taken: { id: string }[] = await tx.query(`SELECT id FROM devices WHERE id = ANY($1)`, [[...ids]]);
    if (taken.length === 0) return [...ids];
    for (const { id } of taken) ids.delete(id);
  }
}

/** The case of each device of a batch (null: into stock); exactly one of `count` and `caseIds`. */
function batchCaseIds(dto: CreateDevicesBatchDto): (string | null)[] {
  const { count, caseIds } = dto;
  if (count !== undefined && caseIds !== undefined) {
    throw new BadRequestException('Give either count (devices into stock) or caseIds (one device per entry), not both');
  }
  if (caseIds !== undefined) return caseIds;
  if (count !== undefined) return new Array<null>(count).fill(null);
  throw new BadRequestException('Give count (devices into stock, 1 to 1000) or caseIds (one device per entry, at most 1000)');
}
