import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { loadConfig } from '@amr/config';
import { openDatabase } from '@amr/persistence';
import { PlatformLogger, RuntimeModule, runMain } from '@amr/runtime';
import { ApiModule } from './api.module.js';
import { configureHttpApp, listenHttp } from './http-app.js';

/** The HTTP API on its own: shares DATABASE_URL with the routing service, reaches devices through MQTT_URL. */
runMain(async () => {
  const config = loadConfig();
  const dataSource = await openDatabase({ url: config.database.url, dataDir: config.database.dataDir });
  @Module({ imports: [RuntimeModule.forRoot({ config, dataSource, roles: ['api'] }), ApiModule] })
  class ApiApp {}
  const app = await NestFactory.create(ApiApp, { abortOnError: false, logger: new PlatformLogger(config.log) });
  app.enableShutdownHooks();
  configureHttpApp(app);
  await listenHttp(app, config);
});
