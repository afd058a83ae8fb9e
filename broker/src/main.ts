import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { loadConfig } from '@amr/config';
import { openDatabase } from '@amr/persistence';
import { RuntimeModule, runMain } from '@amr/runtime';
import { BrokerModule } from './broker.module.js';

/**
 * The broker on its own (several nodes share one PostgreSQL through DATABASE_URL). The platform's
 * services connect with AMR_INTERNAL_SECRET, which must then be set to the same value everywhere.
 */
runMain(async () => {
  const config = loadConfig();
  const dataSource = await openDatabase({ url: config.database.url, dataDir: config.database.dataDir });
  @Module({ imports: [RuntimeModule.forRoot({ config, dataSource }), BrokerModule] })
  class BrokerApp {}
  const app = await NestFactory.createApplicationContext(BrokerApp, { abortOnError: false });
  app.enableShutdownHooks();
  await app.init();
});
