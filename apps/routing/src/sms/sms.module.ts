import { Module } from '@nestjs/common';
import { IngestModule } from '../ingest/ingest.module.js';
import { SmsIntake } from './sms-intake.js';

/**
 * Presses that come by SMS, for the HTTP API's gateway route: checked here, then handed to the
 * device ingest of this process, the same pipeline as MQTT presses (docs/architecture.md).
 */
@Module({
  imports: [IngestModule],
  providers: [SmsIntake],
  exports: [SmsIntake],
})
export class SmsModule {}
