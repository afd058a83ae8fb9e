import { AlarmEvent } from './alarm-event.entity.js';
import { AlarmPosition } from './alarm-position.entity.js';
import { AlarmPress } from './alarm-press.entity.js';
import { Alarm } from './alarm.entity.js';
import { Cic } from './cic.entity.js';
import { DeviceCommand } from './device-command.entity.js';
import { Device } from './device.entity.js';
import { Integration } from './integration.entity.js';
import { ProtectionCase } from './protection-case.entity.js';
import { TechnicalAlert } from './technical-alert.entity.js';
import { WebhookDelivery } from './webhook-delivery.entity.js';
import { CaseRead } from './case-read.entity.js';
import { DeviceEvent } from './device-event.entity.js';
import { DeviceStatusReport } from './device-status-report.entity.js';
import { SmsOutboxEntry } from './sms-outbox.entity.js';

export * from './alarm-event.entity.js';
export * from './alarm-position.entity.js';
export * from './alarm-press.entity.js';
export * from './alarm.entity.js';
export * from './cic.entity.js';
export * from './device-command.entity.js';
export * from './device.entity.js';
export * from './integration.entity.js';
export * from './protection-case.entity.js';
export * from './technical-alert.entity.js';
export * from './webhook-delivery.entity.js';
export * from './case-read.entity.js';
export * from './device-event.entity.js';
export * from './device-status-report.entity.js';
export * from './sms-outbox.entity.js';

/** Every entity class, for the DataSource `entities` option. */
export const ENTITIES = [
  Cic,
  Integration,
  ProtectionCase,
  Device,
  Alarm,
  AlarmPress,
  AlarmPosition,
  AlarmEvent,
  TechnicalAlert,
  DeviceCommand,
  WebhookDelivery,
  CaseRead,
  DeviceEvent,
  DeviceStatusReport,
  SmsOutboxEntry,
];
