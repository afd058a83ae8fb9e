import { randomBytes } from 'node:crypto';
import { BadRequestException, ConflictException, Inject, Injectable, Logger, NotFoundException, UnprocessableEntityException } from '@nestjs/common';
import { Brackets, In, Not, type DataSource, type EntityManager } from 'typeorm';
import { Alarm, Device, DeviceCommand, DeviceEvent, DeviceStatusReport, ProtectionCase, TechnicalAlert } from '@amr/persistence';
import { CMD_LIMITS, validateCmd, withCommandId, type Encoding } from '@amr/protocol';
import { hashSecret, newSecret } from '@amr/security';
import type { AmrConfig } from '@amr/config';
import { AMR_CONFIG, DATA_SOURCE, DeviceLink } from '@amr/runtime';
import { actorOf, alertView, iso, type Scope } from '@amr/alarms';
import type { AssignDto, CreateDeviceDto, CreateDevicesBatchDto, DeviceSettingsDto, HardwareIdentityDto, ListDevicesQuery, RenewDto, UpdateDeviceDto } from './devices.dto.js';

/** CONTRACT §4 device health, with the device's identity, grant and open technical alerts. */
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
  imei: string | null;
  iccid: string | null;
  model: string | null;
  /** The SIM's number (E.164) for the SMS path, null when none is registered. */
  msisdn: string | null;
  assignedAt: string | null;
  grantExpiresAt: string | null;
  /** assigned to a case, active, grant running: the platform raises alerts for it */
  supervised: boolean;
  /** types of its open technical alerts */
  openAlerts: string[];
  /** The client certificate that admits it (CONTRACT §1), null when none does. */
  certificate: { serial: string; fingerprint: string; notAfter: string | null } | null;
}

export interface CommandView {
  id: string;
  body: Record<string, unknown>;
  state: string;
  createdAt: string;
  sentAt: string | null;
  deliveredAt: string | null;
}

/**
 * The fleet: provisioning (hardware identity, secret), the grant lifecycle (assign to a case with
 * an expiry, renew, unassign), settings, deactivation, secret rotation and commands. Every change
 * is appended to `device_events` with who did it, in the same transaction.
 */
@Injectable()
export class DevicesService {
  private readonly logger = new Logger('Devices');

  constructor(
    @Inject(DATA_SOURCE) private readonly db: DataSource,
    @Inject(AMR_CONFIG) private readonly config: AmrConfig,
    private readonly link: DeviceLink,
  ) {}

  /** Provisions a button (for a case, or into stock); its secret is shown once and stored as its digest (CONTRACT §1). */
  async create(scope: Scope, dto: CreateDeviceDto): Promise<{ deviceId: string; secret: string; caseId: string | null }> {
    this.checkSettings(dto);
    const deviceId = dto.deviceId ?? newDeviceId();
    const secret = newSecret();
    await this.db.transaction(async (tx) => {
      const protectionCase = dto.caseId ? await this.openCase(tx, dto.caseId) : null;
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
      const cases = await this.openCases(tx, caseIds.filter((id): id is string => id !== null));
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
      const events = [{ deviceId: id, actor, type: 'provisioned', details, at: now }];
      if (protectionCase) events.push({ deviceId: id, actor, type: 'assigned', details: grantDetails(grant), at: now });
      return { device, events };
    });
    await tx.insert(Device, rows.map((r) => r.device));
    await tx.insert(DeviceEvent, rows.flatMap((r) => r.events));
  }

  async health(id: string): Promise<DeviceHealth> {
    const device = await this.find(this.db.manager, id);
    return (await this.toHealth([device]))[0]!;
  }

  /** The fleet, filtered, in pages: `{total, limit, offset, items}`. */
  async list(query: ListDevicesQuery): Promise<{ total: number; limit: number; offset: number; items: DeviceHealth[] }> {
    const limit = query.limit ?? 100;
    const offset = query.offset ?? 0;
    const q = this.db.getRepository(Device).createQueryBuilder('d').leftJoin(ProtectionCase, 'c', 'c.id = d.caseId');
    if (query.caseId) q.andWhere('d.caseId = :caseId', { caseId: query.caseId });
    if (query.cicId) q.andWhere('c.homeCicId = :cicId', { cicId: query.cicId });
    if (query.online !== undefined) q.andWhere('d.connected = :online', { online: query.online });
    if (query.batteryBelow !== undefined) q.andWhere('d.battery < :battery', { battery: query.batteryBelow });
    if (query.silent !== undefined) {
      const open = `EXISTS (SELECT 1 FROM alerts a WHERE a.device_id = d.id AND a.type = 'silent' AND a.cleared_at IS NULL)`;
      q.andWhere(query.silent ? open : `NOT ${open}`);
    }
    if (query.grant === 'stock') q.andWhere('d.caseId IS NULL');
    if (query.grant === 'active') q.andWhere(new Brackets((w) => w.where('d.caseId IS NOT NULL').andWhere('(d.grantExpiresAt IS NULL OR d.grantExpiresAt > now())')));
    if (query.grant === 'expired') q.andWhere('d.caseId IS NOT NULL AND d.grantExpiresAt <= now()');
    const [devices, total] = await q.orderBy('d.id', 'ASC').skip(offset).take(limit).getManyAndCount();
    return { total, limit, offset, items: await this.toHealth(devices) };
  }

  /**
   * Settings and the SIM's number; a new heartbeat interval is also sent to the button (`config
   * hb`), tracked like any command.
   */
  async update(scope: Scope, id: string, dto: UpdateDeviceDto): Promise<DeviceHealth> {
    this.checkSettings(dto);
    const before = await this.db.transaction(async (tx) => {
      const device = await this.find(tx, id, true);
      const changes = compact({ heartbeatS: dto.heartbeatS, graceS: dto.graceS, msisdn: dto.msisdn === device.msisdn ? undefined : dto.msisdn });
      if (Object.keys(changes).length === 0) return device;
      if (changes.msisdn) await msisdnsFree(tx, [changes.msisdn]);
      await tx.update(Device, { id }, changes);
      await record(tx, id, scope, 'settings', { ...changes, before: compact({ heartbeatS: device.heartbeatS, graceS: device.graceS, msisdn: 'msisdn' in changes ? device.msisdn : undefined }) });
      return device;
    });
    await this.configureHeartbeat(scope, before, dto.heartbeatS);
    return this.health(id);
  }

  /**
   * A case's heartbeat settings apply to every button granted to it: stored on the case (new grants
   * inherit them), set on its devices (each change in their history), sent to them (`config hb`).
   */
  async applyCaseSettings(scope: Scope, caseId: string, settings: { heartbeatS?: number; graceS?: number }): Promise<void> {
    this.checkSettings(settings);
    const devices = await this.db.getRepository(Device).find({ where: { caseId }, select: { id: true } });
    for (const { id } of devices) await this.update(scope, id, settings);
  }

  /** CONTRACT §3 cmd config `hb`; intervals below its range (tests: AMR_MIN_HEARTBEAT_S) are supervised only. */
  private async configureHeartbeat(scope: Scope, device: Device, heartbeatS: number | undefined): Promise<void> {
    if (heartbeatS === undefined || heartbeatS === device.heartbeatS) return;
    if (heartbeatS < CMD_LIMITS.hb.min || heartbeatS > CMD_LIMITS.hb.max) return;
    await this.command(scope, device.id, { cmd: 'config', hb: heartbeatS });
  }

  /** The prosecutor granted the button to a case: supervision starts now, until the grant expires. */
  async assign(scope: Scope, id: string, dto: AssignDto): Promise<DeviceHealth> {
    this.checkSettings(dto);
    const before = await this.db.transaction(async (tx) => {
      const device = await this.find(tx, id, true);
      if (device.caseId) {
        throw new ConflictException(`Device ${id} is assigned to case ${device.caseId}: unassign it first (POST /api/v1/devices/${id}/unassign)`);
      }
      if (!device.active) throw new ConflictException(`Device ${id} is deactivated; provision a new one`);
      const protectionCase = await this.openCase(tx, dto.caseId);
      const now = new Date();
      const grant = { caseId: protectionCase.id, assignedAt: now, grantExpiresAt: addMonths(now, dto.grantMonths ?? this.config.supervision.grantMonths) };
      // The device's own settings, else the case's.
      const settings = compact({ heartbeatS: dto.heartbeatS ?? protectionCase.heartbeatS ?? undefined, graceS: dto.graceS ?? protectionCase.graceS ?? undefined });
      await tx.update(Device, { id }, { ...grant, ...settings });
      await record(tx, id, scope, 'assigned', { ...grantDetails(grant), ...settings }, now);
      return { device, heartbeatS: settings.heartbeatS as number | undefined };
    });
    await this.configureHeartbeat(scope, before.device, before.heartbeatS);
    return this.health(id);
  }

  /** The grant ended: the button goes back to stock and is no longer supervised. */
  async unassign(scope: Scope, id: string): Promise<DeviceHealth> {
    await this.db.transaction(async (tx) => {
      const device = await this.find(tx, id, true);
      if (!device.caseId) throw new ConflictException(`Device ${id} is not assigned to a case`);
      const open = await tx.findOne(Alarm, { where: { deviceId: id, stage: Not('closed') }, select: { id: true } });
      if (open) throw new ConflictException(`Device ${id} has an open alarm (${open.id}): close it before unassigning the device`);
      await tx.update(Device, { id }, { caseId: null, assignedAt: null, grantExpiresAt: null });
      await record(tx, id, scope, 'unassigned', { caseId: device.caseId, grantExpiresAt: device.grantExpiresAt?.toISOString() ?? null });
    });
    return this.health(id);
  }

  /** The grant is extended by `months` from its end (or from now, if it has already ended). */
  async renew(scope: Scope, id: string, dto: RenewDto): Promise<DeviceHealth> {
    await this.db.transaction(async (tx) => {
      const device = await this.find(tx, id, true);
      if (!device.caseId) throw new ConflictException(`Device ${id} is not assigned to a case: assign it (POST /api/v1/devices/${id}/assign)`);
      const now = new Date();
      const from = device.grantExpiresAt && device.grantExpiresAt > now ? device.grantExpiresAt : now;
      const months = dto.months ?? this.config.supervision.grantMonths;
      const grantExpiresAt = addMonths(from, months);
      await tx.update(Device, { id }, { grantExpiresAt });
      await record(tx, id, scope, 'renewed', { caseId: device.caseId, months, before: device.grantExpiresAt?.toISOString() ?? null, grantExpiresAt: grantExpiresAt.toISOString() }, now);
    });
    return this.health(id);
  }

  /** Refused from now on, and any live connection is cut (CONTRACT §4). */
  async deactivate(scope: Scope, id: string): Promise<DeviceHealth> {
    await this.db.transaction(async (tx) => {
      await this.find(tx, id, true);
      const now = new Date();
      await tx.update(Device, { id }, { active: false, deactivatedAt: now });
      await record(tx, id, scope, 'deactivated', {}, now);
    });
    await this.link.kick(id);
    return this.health(id);
  }

  /** A new secret; the old one stops working at once and a live connection is cut. */
  async rotateSecret(scope: Scope, id: string): Promise<{ deviceId: string; secret: string }> {
    const secret = newSecret();
    await this.db.transaction(async (tx) => {
      await this.find(tx, id, true);
      await tx.update(Device, { id }, { secretHash: hashSecret(secret) });
      await record(tx, id, scope, 'secret-rotated', {});
    });
    await this.link.kick(id);
    return { deviceId: id, secret };
  }

  /**
   * CONTRACT §3 cmd, published QoS 1 with the command's id as the extra key `id`; the broker marks
   * it delivered on the device's PUBACK, and sends it again when the device subscribes to `cmd`.
   */
  async command(scope: Scope, id: string, body: unknown): Promise<{ id: string; state: string }> {
    const device = await this.find(this.db.manager, id);
    const checked = validateCmd(body);
    if (!checked.ok) throw new BadRequestException(`Invalid command: ${checked.error.message}`);
    const repo = this.db.getRepository(DeviceCommand);
    const command = await repo.save(repo.create({ deviceId: id, body: { ...checked.value }, state: 'queued' }));
    await record(this.db.manager, id, scope, 'command', { commandId: command.id, ...checked.value });
    try {
      await this.link.sendCommand(id, device.encoding as Encoding, withCommandId(checked.value, command.id));
      // The device may already have acknowledged it: never step back from `delivered`.
      await repo.update({ id: command.id, state: 'queued' }, { state: 'sent', sentAt: new Date() });
    } catch (err) {
      this.logger.error(`${id}: command ${command.id} not handed to the broker: ${String(err)}`);
    }
    const stored = await repo.findOneByOrFail({ id: command.id });
    return { id: stored.id, state: stored.state };
  }

  /** A device's commands, newest first, with their state (queued, sent, delivered). */
  async commands(id: string): Promise<CommandView[]> {
    await this.find(this.db.manager, id);
    const commands = await this.db.getRepository(DeviceCommand).find({ where: { deviceId: id }, order: { createdAt: 'DESC' }, take: 200 });
    return commands.map((c) => ({
      id: c.id,
      body: c.body,
      state: c.state,
      createdAt: c.createdAt.toISOString(),
      sentAt: iso(c.sentAt),
      deliveredAt: iso(c.deliveredAt),
    }));
  }

  /** What was done to the device (oldest first), its recent status reports and technical alerts (newest first). */
  async history(id: string, limit = 100) {
    await this.find(this.db.manager, id);
    const [events, reports, alerts] = await Promise.all([
      this.db.getRepository(DeviceEvent).find({ where: { deviceId: id }, order: { id: 'ASC' } }),
      this.db.getRepository(DeviceStatusReport).find({ where: { deviceId: id }, order: { id: 'DESC' }, take: limit }),
      this.db.getRepository(TechnicalAlert).find({ where: { deviceId: id }, order: { raisedAt: 'DESC' }, take: limit }),
    ]);
    return {
      deviceId: id,
      events: events.map((e) => ({ at: e.at.toISOString(), actor: e.actor, type: e.type, details: e.details })),
      statusReports: reports.map((r) => ({
        receivedAt: r.receivedAt.toISOString(),
        seq: r.seq,
        ts: r.ts,
        battery: r.battery,
        rsrp: r.rsrp,
        fw: r.fw,
        position: r.position,
      })),
      alerts: alerts.map(alertView),
    };
  }

  private checkSettings(dto: DeviceSettingsDto): void {
    const min = this.config.supervision.minHeartbeatS;
    if (dto.heartbeatS !== undefined && dto.heartbeatS < min) throw new BadRequestException(`heartbeatS must not be less than ${min}`);
  }

  private async openCase(tx: EntityManager, caseId: string): Promise<ProtectionCase> {
    return (await this.openCases(tx, [caseId])).get(caseId)!;
  }

  /** The open cases named, by id; a 422 names every unknown or closed one. */
  private async openCases(tx: EntityManager, caseIds: string[]): Promise<Map<string, ProtectionCase>> {
    const wanted = [...new Set(caseIds)];
    if (wanted.length === 0) return new Map();
    const cases = new Map((await tx.find(ProtectionCase, { where: { id: In(wanted) } })).map((c) => [c.id, c]));
    const unknown = wanted.filter((id) => !cases.has(id));
    if (unknown.length) throw new UnprocessableEntityException(`Unknown case ${listed(unknown)}: create it first with POST /api/v1/cases`);
    const closed = wanted.filter((id) => cases.get(id)!.closedAt);
    if (closed.length) throw new UnprocessableEntityException(`Case ${listed(closed)} is closed`);
    return cases;
  }

  private async find(db: EntityManager, id: string, lock = false): Promise<Device> {
    const device = await db.findOne(Device, { where: { id }, ...(lock ? { lock: { mode: 'pessimistic_write' as const } } : {}) });
    if (!device) throw new NotFoundException(`No device ${id}`);
    return device;
  }

  private async toHealth(devices: Device[]): Promise<DeviceHealth[]> {
    if (devices.length === 0) return [];
    const open: { deviceId: string; type: string }[] = await this.db.query(
      `SELECT device_id AS "deviceId", type FROM alerts WHERE cleared_at IS NULL AND device_id = ANY($1) ORDER BY type`,
      [devices.map((d) => d.id)],
    );
    const now = Date.now();
    return devices.map((d) => ({
      id: d.id,
      caseId: d.caseId ?? null,
      active: d.active,
      connected: d.connected,
      lastSeenAt: iso(d.lastSeenAt),
      battery: d.battery ?? null,
      rsrp: d.rsrp ?? null,
      fw: d.fw ?? null,
      lastPosition: (d.lastPosition as Record<string, unknown> | null) ?? null,
      heartbeatS: d.heartbeatS,
      graceS: d.graceS,
      imei: d.imei ?? null,
      iccid: d.iccid ?? null,
      model: d.model ?? null,
      msisdn: d.msisdn ?? null,
      assignedAt: iso(d.assignedAt),
      grantExpiresAt: iso(d.grantExpiresAt),
      supervised: d.active && !!d.caseId && (!d.grantExpiresAt || d.grantExpiresAt.getTime() > now),
      openAlerts: open.filter((a) => a.deviceId === d.id).map((a) => a.type),
      certificate: d.certFingerprint ? { serial: d.certSerial ?? '', fingerprint: d.certFingerprint, notAfter: iso(d.certNotAfter) } : null,
    }));
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

/** A number registered to one device at most (CONTRACT §6: the sender names the device): 409 otherwise. */
async function msisdnsFree(tx: EntityManager, msisdns: readonly string[]): Promise<void> {
  if (msisdns.length === 0) return;
  const repeated = msisdns.filter((m, i) => msisdns.indexOf(m) !== i);
  if (repeated.length) throw new ConflictException(`msisdns lists ${listed([...new Set(repeated)])} more than once: one number per device`);
  const taken: { id: string; msisdn: string }[] = await tx.query(`SELECT id, msisdn FROM devices WHERE msisdn = ANY($1)`, [[...msisdns]]);
  if (taken.length) throw new ConflictException(`${listed(taken.map((t) => `${t.msisdn} (device ${t.id})`))} already registered: one number per device`);
}

/** Ids for a message: the first ten, and how many more. */
function listed(ids: string[]): string {
  return ids.length <= 10 ? ids.join(', ') : `${ids.slice(0, 10).join(', ')} and ${ids.length - 10} more`;
}

/** The case of each device of a batch (null: into stock); exactly one of `count` and `caseIds`. */
function batchCaseIds(dto: CreateDevicesBatchDto): (string | null)[] {
  if (dto.count !== undefined && dto.caseIds !== undefined) {
    throw new BadRequestException('Give either count (devices into stock) or caseIds (one device per entry), not both');
  }
  if (dto.caseIds !== undefined) return dto.caseIds;
  if (dto.count !== undefined) return new Array<null>(dto.count).fill(null);
  throw new BadRequestException('Give count (devices into stock, 1 to 1000) or caseIds (one device per entry, at most 1000)');
}

function record(tx: EntityManager, deviceId: string, scope: Scope, type: string, details: Record<string, unknown>, at = new Date()) {
  return tx.insert(DeviceEvent, { deviceId, actor: actorOf(scope), type, details: details as never, at });
}

function grantDetails(grant: { caseId?: string; grantExpiresAt?: Date }): Record<string, unknown> {
  return { caseId: grant.caseId, grantExpiresAt: grant.grantExpiresAt?.toISOString() };
}

/** Calendar months later, in UTC (31 Aug + 6 months = 28/29 Feb: the day is clamped to the month). */
export function addMonths(from: Date, months: number): Date {
  const to = new Date(from);
  const day = to.getUTCDate();
  to.setUTCDate(1);
  to.setUTCMonth(to.getUTCMonth() + months);
  const last = new Date(Date.UTC(to.getUTCFullYear(), to.getUTCMonth() + 1, 0)).getUTCDate();
  to.setUTCDate(Math.min(day, last));
  return to;
}

/** CONTRACT §3: unknown keys are ignored by a device, so the command's id travels as the extra key `id`. */

function compact<T extends Record<string, unknown>>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
