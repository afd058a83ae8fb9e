import { Module, type DynamicModule, type LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { DataSource } from 'typeorm';
import type { AmrConfig } from '@amr/config';
import { openDatabase, closeDatabase } from '@amr/persistence';
import { Metrics, PlatformLogger, RuntimeModule } from '@amr/runtime';
import { BrokerModule, MqttBroker } from '@amr/broker';
import { RoutingModule } from '@amr/routing';
import { ApiModule, configureHttpApp, listenHttp } from '@amr/api';

@Module({})
class PlatformModule {
  static forRoot(config: AmrConfig, dataSource: DataSource, metrics: Metrics): DynamicModule {
    return {
      module: PlatformModule,
      imports: [RuntimeModule.forRoot({ config, dataSource, metrics, roles: ['broker', 'routing', 'api'] }), BrokerModule, RoutingModule, ApiModule],
    };
  }
}

export interface RunningPlatform {
  readonly config: AmrConfig;
  readonly app: NestExpressApplication;
  readonly db: DataSource;
  readonly metrics: Metrics;
  readonly ports: { http: number; mqtt: number; mqtts?: number };
  close(): Promise<void>;
}

export interface StartOptions {
  logger?: LogLevel[] | false;
  /** An already opened database (tests share one per file); otherwise opened from the config. */
  dataSource?: DataSource;
}

/**
 * Broker, routing service and HTTP API in one process on one database: what `npm start` runs.
 * Start-up order: database (migrated) → broker listening, its ingest attached → HTTP.
 */
export async function startPlatform(config: AmrConfig, options: StartOptions = {}): Promise<RunningPlatform> {
  const ownsDb = !options.dataSource;
  const db = options.dataSource ?? (await openDatabase({ url: config.database.url, dataDir: config.database.dataDir }));
  const metrics = new Metrics();
  let app: NestExpressApplication | undefined;
  try {
    app = await NestFactory.create<NestExpressApplication>(
      PlatformModule.forRoot(config, db, metrics),
      { logger: options.logger ?? new PlatformLogger(config.log), abortOnError: false },
    );
    app.enableShutdownHooks();
    configureHttpApp(app);
    await app.init();
    const mqttPorts = app.get(MqttBroker).ports;
    const server = await listenHttp(app, config);
    const address = server.address();
    const http = typeof address === 'object' && address ? address.port : config.http.port;
    const running = app;
    return {
      config,
      app: running,
      db,
      metrics,
      ports: { http, ...mqttPorts },
      async close() {
        await running.close();
        if (ownsDb) await closeDatabase(db);
      },
    };
  } catch (err) {
    await app?.close().catch(() => undefined);
    if (ownsDb) await closeDatabase(db).catch(() => undefined);
    throw err;
  }
}
