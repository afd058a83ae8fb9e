import { Global, Module, type DynamicModule } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import type { AmrConfig } from '@amr/config';
import { AMR_CONFIG, DATA_SOURCE } from './tokens.js';
import { Metrics } from './metrics.js';
import { PlatformEvents } from './events.js';
import { BrokerAddress } from './broker-address.js';
import { IngestPort } from './device-ingest.js';

export interface RuntimeOptions {
  readonly config: AmrConfig;
  /** Opened (and migrated) before the Nest application is created; the caller closes it. */
  readonly dataSource: DataSource;
  readonly metrics?: Metrics;
  readonly events?: PlatformEvents;
}

/** What every app of the platform is given: its configuration, database, metrics, event bus, broker address and device ingest port. */
@Global()
@Module({})
export class RuntimeModule {
  static forRoot(options: RuntimeOptions): DynamicModule {
    return {
      module: RuntimeModule,
      providers: [
        { provide: AMR_CONFIG, useValue: options.config },
        { provide: DATA_SOURCE, useValue: options.dataSource },
        { provide: Metrics, useValue: options.metrics ?? new Metrics() },
        { provide: PlatformEvents, useValue: options.events ?? new PlatformEvents() },
        { provide: BrokerAddress, useValue: new BrokerAddress(options.config) },
        { provide: IngestPort, useValue: new IngestPort() },
      ],
      exports: [AMR_CONFIG, DATA_SOURCE, Metrics, PlatformEvents, BrokerAddress, IngestPort],
    };
  }
}
