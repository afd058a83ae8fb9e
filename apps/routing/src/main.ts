import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { loadConfig } from '@amr/config';
import { openDatabase } from '@amr/persistence';
import { RuntimeModule, runMain } from '@amr/runtime';
import { RoutingModule } from './routing.module.js';
import { MqttIngressServer } from './ingress/mqtt-ingress.server.js';

/** The routing service on its own: connects to the broker at MQTT_URL with AMR_INTERNAL_SECRET. */
runMain(async () => {
  const config = loadConfig();
  const dataSource = await openDatabase({ url: config.database.url, dataDir: config.database.dataDir });
  @Module({ imports: [RuntimeModule.forRoot({ config, dataSource }), RoutingModule] })
  class RoutingApp {}
  const app = await NestFactory.create(RoutingApp, { abortOnError: false });
  app.enableShutdownHooks();
  for (const lane of ['alarms', 'telemetry'] as const) app.connectMicroservice({ strategy: MqttIngressServer.forConfig(config, lane) });
  await app.init();
  await app.startAllMicroservices();
});
