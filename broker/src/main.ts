import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { loadConfig } from '@amr/config';
import { openDatabase } from '@amr/persistence';
import { PlatformLogger, RuntimeModule, runMain } from '@amr/runtime';
import { IngestModule } from '@amr/routing';
import { BrokerModule } from './broker.module.js';

/**
 * A broker node: the MQTT listeners and the device ingest that stores and answers what devices
 * publish, in one process (several nodes share one PostgreSQL through DATABASE_URL). The platform's
 * other services connect with AMR_INTERNAL_SECRET, which must then be set to the same value everywhere.
 */
runMain(async () => {
  const config = loadConfig();
  const dataSource = await openDatabase({ url: config.database.url, dataDir: config.database.dataDir });
  @Module({ imports: [RuntimeModule.forRoot({ config, dataSource, roles: ['broker'] }), BrokerModule, IngestModule] })
  class BrokerApp {}
  const app = await NestFactory.createApplicationContext(BrokerApp, { abortOnError: false, logger: new PlatformLogger(config.log) });
  app.enableShutdownHooks();
  await app.init();
});
