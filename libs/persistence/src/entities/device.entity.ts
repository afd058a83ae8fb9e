import { Check, Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn, Unique, type Relation } from 'typeorm';
import type { Encoding } from '@amr/protocol';
import { bigintAsNumber } from '../columns.js';
import { ProtectionCase } from './protection-case.entity.js';


/** A position as last reported by a device. */
export interface DevicePosition {
  lat: number;
  lon: number;
  acc?: number | null;
  /** device time, Unix seconds */
  ts?: number | null;
  src?: string | null;
  [key: string]: unknown;
}

/** A panic button. Its id is the device id it authenticates with; only a hash of its secret is kept. */
@Entity({ name: 'devices' })
@Check('devices_encoding_check', `encoding IN ('cbor', 'json')`)
@Check('devices_heartbeat_s_check', `heartbeat_s > 0`)
@Check('devices_grace_s_check', `grace_s >= 0`)
@Index('devices_case_id_idx', ['caseId'])
// the supervision sweep's indexes (an expression and partial ones: migration SupervisionDue)
@Index('devices_silent_due_idx', { synchronize: false })
@Index('devices_battery_idx', { synchronize: false })
@Unique('devices_imei_key', ['imei'])
@Unique('devices_msisdn_key', ['msisdn'])
export class Device {
  @PrimaryColumn({ name: 'id', type: 'text', primaryKeyConstraintName: 'devices_pkey' })
  id: string;

  @Column({ name: 'case_id', type: 'uuid', nullable: true })
  caseId: string | null;

  @ManyToOne(() => ProtectionCase, { nullable: true })
  @JoinColumn({ name: 'case_id', foreignKeyConstraintName: 'devices_case_id_fkey' })
  case?: Relation<ProtectionCase> | null;

  @Column({ name: 'secret_hash', type: 'text' })
  secretHash: string;

  @Column({ name: 'active', type: 'boolean', default: true })
  active: boolean;

  @Column({ name: 'encoding', type: 'text', default: 'cbor' })
  encoding: Encoding;

  @Column({ name: 'heartbeat_s', type: 'integer', default: 3600 })
  heartbeatS: number;

  @Column({ name: 'grace_s', type: 'integer', default: 600 })
  graceS: number;

  @Column({ name: 'connected', type: 'boolean', default: false })
  connected: boolean;

  @Column({ name: 'connected_at', type: 'timestamptz', nullable: true })
  connectedAt: Date | null;

  @Column({ name: 'disconnected_at', type: 'timestamptz', nullable: true })
  disconnectedAt: Date | null;

  @Column({ name: 'last_seen_at', type: 'timestamptz', nullable: true })
  lastSeenAt: Date | null;

  @Column({ name: 'battery', type: 'integer', nullable: true })
  battery: number | null;

  @Column({ name: 'rsrp', type: 'real', nullable: true })
  rsrp: number | null;

  @Column({ name: 'fw', type: 'text', nullable: true })
  fw: string | null;

  @Column({ name: 'last_position', type: 'jsonb', nullable: true })
  lastPosition: DevicePosition | null;

  @Column({ name: 'last_alarm_seq', type: 'bigint', nullable: true, transformer: bigintAsNumber })
  lastAlarmSeq: number | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @Column({ name: 'deactivated_at', type: 'timestamptz', nullable: true })
  deactivatedAt: Date | null;

  /** Hardware identity: 15-digit IMEI, SIM ICCID, model and the firmware it shipped with. */
  @Column({ name: 'imei', type: 'text', nullable: true })
  imei: string | null;

  @Column({ name: 'iccid', type: 'text', nullable: true })
  iccid: string | null;

  @Column({ name: 'model', type: 'text', nullable: true })
  model: string | null;

  /** The SIM's phone number (E.164, e.g. +32470123456): the only sender whose SMS presses are accepted (CONTRACT §6). */
  @Column({ name: 'msisdn', type: 'text', nullable: true })
  msisdn: string | null;

  /** When its newest press came by SMS; acks follow the SMS path while this is newer than its MQTT connection. */
  @Column({ name: 'sms_contact_at', type: 'timestamptz', nullable: true })
  smsContactAt: Date | null;

  /** When it was assigned to its current case; supervision counts from here for a device never heard. */
  @Column({ name: 'assigned_at', type: 'timestamptz', nullable: true })
  assignedAt: Date | null;

  /** The grant's end (null: no expiry); past it the device is no longer supervised. */
  @Column({ name: 'grant_expires_at', type: 'timestamptz', nullable: true })
  grantExpiresAt: Date | null;

  /**
   * Its client certificate (CONTRACT §1), the newest issued: SHA-256 of the DER, lowercase hex. The
   * broker admits only this one; null: no certificate admits it.
   */
  @Column({ name: 'cert_fingerprint', type: 'text', nullable: true })
  certFingerprint: string | null;

  @Column({ name: 'cert_serial', type: 'text', nullable: true })
  certSerial: string | null;

  @Column({ name: 'cert_not_after', type: 'timestamptz', nullable: true })
  certNotAfter: Date | null;
}
