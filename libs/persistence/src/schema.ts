import { ENTITIES } from './entities/index.js';
import { Initial1795400000000 } from './migrations/1795400000000-Initial.js';
import { AlarmLifecycle1795500000000 } from './migrations/1795500000000-AlarmLifecycle.js';
import { DefaultCoverageAreas1795600000000 } from './migrations/1795600000000-DefaultCoverageAreas.js';
import { FleetSupervision1795700000000 } from './migrations/1795700000000-FleetSupervision.js';
import { CaseSupervisionDefaults1795800000000 } from './migrations/1795800000000-CaseSupervisionDefaults.js';
import { IngestBounds1795900000000 } from './migrations/1795900000000-IngestBounds.js';
import { EventLog1796000000000 } from './migrations/1796000000000-EventLog.js';
import { SmsPath1796100000000 } from './migrations/1796100000000-SmsPath.js';
import { AuditTrail1796200000000 } from './migrations/1796200000000-AuditTrail.js';
import { PersonalDataRetention1796300000000 } from './migrations/1796300000000-PersonalDataRetention.js';
import { DeviceCertificates1796400000000 } from './migrations/1796400000000-DeviceCertificates.js';
import { SmsOutbox1796500000000 } from './migrations/1796500000000-SmsOutbox.js';
import { PressesByAlarm1796600000000 } from './migrations/1796600000000-PressesByAlarm.js';
import { SupervisionDue1796700000000 } from './migrations/1796700000000-SupervisionDue.js';

export { ENTITIES };

/** Every migration class, oldest first, for the DataSource `migrations` option. */
export const MIGRATIONS = [
  Initial1795400000000,
  AlarmLifecycle1795500000000,
  DefaultCoverageAreas1795600000000,
  FleetSupervision1795700000000,
  CaseSupervisionDefaults1795800000000,
  IngestBounds1795900000000,
  EventLog1796000000000,
  SmsPath1796100000000,
  AuditTrail1796200000000,
  PersonalDataRetention1796300000000,
  DeviceCertificates1796400000000,
  SmsOutbox1796500000000,
  PressesByAlarm1796600000000,
  SupervisionDue1796700000000,
];
