import { Global, Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import type { AmrConfig } from '@amr/config';
import { AMR_CONFIG, DATA_SOURCE, NODE_ROLES } from './tokens.js';
import { NodeRegistry } from './node-registry.js';
import { RedisProbe } from './redis-probe.js';
import { Metrics } from './metrics.js';
import { PlatformEvents } from '../events/events.js';
import { BrokerAddress } from '../devices/broker-address.js';
import { IngestPort } from '../devices/device-ingest.js';
import { SmsGateway } from '../devices/sms-gateway.js';

export interface RuntimeOptions {
  readonly config: AmrConfig;
  /** Opened (and migrated) before the Nest application is created; the caller closes it. */
  readonly dataSource: DataSource;
  readonly metrics?: Metrics;
  /** What this process runs: `broker`, `routing`, `api` (shown by /health to every node). */
  readonly roles: readonly string[];
}

/** What every app of the platform is given: its configuration, database, metrics, event bus, broker address, device ingest port and SMS gateway. */
@Global()
@Module({})
export class RuntimeModule implements OnApplicationShutdown {
  constructor(private readonly events: PlatformEvents) {}

  /** After every other module's shutdown: their last events are written. */
  async onApplicationShutdown(): Promise<void> {
    await this.events.close();
  }

  static forRoot(options: RuntimeOptions): DynamicModule {
    const metrics = options.metrics ?? new Metrics();
    return {
      module: RuntimeModule,
      providers: [
        { provide: AMR_CONFIG, useValue: options.config },
        { provide: DATA_SOURCE, useValue: options.dataSource },
        { provide: Metrics, useValue: metrics },
        { provide: PlatformEvents, useValue: new PlatformEvents(options.dataSource, options.config, metrics) },
        { provide: BrokerAddress, useValue: new BrokerAddress(options.config) },
        { provide: IngestPort, useValue: new IngestPort() },
        { provide: NODE_ROLES, useValue: options.roles },
        { provide: SmsGateway, inject: [AMR_CONFIG, Metrics], useFactory: (config: AmrConfig, metrics: Metrics) => new SmsGateway(config, metrics) },
        NodeRegistry,
        RedisProbe,
      ],
      exports: [AMR_CONFIG, DATA_SOURCE, Metrics, PlatformEvents, BrokerAddress, IngestPort, NodeRegistry, RedisProbe, SmsGateway],
    };
  }
}
