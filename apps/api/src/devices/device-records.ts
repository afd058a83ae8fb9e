import { BadRequestException, ConflictException, NotFoundException, UnprocessableEntityException } from '@nestjs/common';
import { In, type EntityManager } from 'typeorm';
import { Device, DeviceEvent, ProtectionCase } from '@amr/persistence';
import type { AmrConfig } from '@amr/config';
import { actorOf, type Scope } from '@amr/alarms';
import type { DeviceSettingsDto } from './devices.dto.js';

// What the device services share: finding a device, its history, the cases and numbers it may take.

export async function findDevice(db: EntityManager, id: string, lock = false): Promise<Device> {
  const device = await db.findOne(Device, { where: { id }, ...(lock ? { lock: { mode: 'pessimistic_write' as const } } : {}) });
  if (!device) throw new NotFoundException(`No device ${id}`);
  return device;
}

/** Appends to the device's history (`device_events`) who did what, in the caller's transaction. */
export function recordDeviceEvent(tx: EntityManager, deviceId: string, scope: Scope, type: string, details: Record<string, unknown>, at = new Date()) {
  return tx.insert(DeviceEvent, { deviceId, actor: actorOf(scope), type, details: details as never, at });
}

/** The shortest heartbeat interval a caller may set (tests lower it: AMR_MIN_HEARTBEAT_S). */
export function checkHeartbeat(config: AmrConfig, dto: DeviceSettingsDto): void {
  const min = config.supervision.minHeartbeatS;
  if (dto.heartbeatS !== undefined && dto.heartbeatS < min) throw new BadRequestException(`heartbeatS must not be less than ${min}`);
}

export async function openCase(tx: EntityManager, caseId: string): Promise<ProtectionCase> {
  return (await openCases(tx, [caseId])).get(caseId)!;
}

/** The open cases named, by id; a 422 names every unknown or closed one. */
export async function openCases(tx: EntityManager, caseIds: string[]): Promise<Map<string, ProtectionCase>> {
  const wanted = [...new Set(caseIds)];
  if (wanted.length === 0) return new Map();
  const cases = new Map((await tx.find(ProtectionCase, { where: { id: In(wanted) } })).map((c) => [c.id, c]));
  const unknown = wanted.filter((id) => !cases.has(id));
  if (unknown.length) throw new UnprocessableEntityException(`Unknown case ${listed(unknown)}: create it first with POST /api/v1/cases`);
  const closed = wanted.filter((id) => cases.get(id)!.closedAt);
  if (closed.length) throw new UnprocessableEntityException(`Case ${listed(closed)} is closed`);
  return cases;
}

/** A number registered to one device at most (CONTRACT §6: the sender names the device): 409 otherwise. */
export async function msisdnsFree(tx: EntityManager, msisdns: readonly string[]): Promise<void> {
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

export function grantDetails(grant: { caseId?: string; grantExpiresAt?: Date }): Record<string, unknown> {
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
