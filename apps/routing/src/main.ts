import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { loadConfig } from '@amr/config';
import { openDatabase } from '@amr/persistence';
import { PlatformLogger, RuntimeModule, runMain } from '@amr/runtime';
import { RoutingModule } from './routing.module.js';

/**
 * The routing service's sweeps on their own (escalation, supervision), against DATABASE_URL. Device
 * traffic is processed by each broker node (`start:broker`), which runs the ingest in its process.
 */
runMain(async () => {
  const config = loadConfig();
  const dataSource = await openDatabase({ url: config.database.url, dataDir: config.database.dataDir });
  @Module({ imports: [RuntimeModule.forRoot({ config, dataSource, roles: ['routing'] }), RoutingModule] })
  class RoutingApp {}
  const app = await NestFactory.createApplicationContext(RoutingApp, { abortOnError: false, logger: new PlatformLogger(config.log) });
  app.enableShutdownHooks();
  await app.init();
});
