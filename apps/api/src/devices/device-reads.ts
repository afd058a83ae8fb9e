import { Inject, Injectable } from '@nestjs/common';
import { Brackets, type DataSource } from 'typeorm';
import { Device, DeviceEvent, DeviceStatusReport, ProtectionCase, TechnicalAlert } from '@amr/persistence';
import { DATA_SOURCE, DeviceCommands, type CommandView } from '@amr/runtime';
import { alertView, iso } from '@amr/alarms';
import type { ListDevicesQuery } from './devices.dto.js';
import { findDevice } from './device-records.js';

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

/** The fleet as the administrator reads it: a device's health, the filtered list, its history and commands. */
@Injectable()
export class DeviceReads {
  constructor(
    @Inject(DATA_SOURCE) private readonly db: DataSource,
    private readonly commands: DeviceCommands,
  ) {}

  async health(id: string): Promise<DeviceHealth> {
    const device = await findDevice(this.db.manager, id);
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

  /** A device's commands, newest first, with their state (queued, sent, delivered). */
  async commandsOf(id: string): Promise<CommandView[]> {
    await findDevice(this.db.manager, id);
    return this.commands.list(id);
  }

  /** What was done to the device (oldest first), its recent status reports and technical alerts (newest first). */
  async history(id: string, limit = 100) {
    await findDevice(this.db.manager, id);
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
