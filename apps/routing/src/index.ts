export { RoutingModule } from './routing.module.js';
export { IngestModule } from './ingest/ingest.module.js';
export { SmsModule } from './sms/sms.module.js';
export { SmsIntake } from './sms/sms-intake.js';
export type { SmsOutcome, SmsRefusal } from './sms/sms-intake.js';
export { PersonalDataRetention } from './retention/personal-data-retention.js';
export type { RetentionResult } from './retention/personal-data-retention.js';
