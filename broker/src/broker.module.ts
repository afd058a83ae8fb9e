import { Module } from '@nestjs/common';
import { DeviceAuthenticator } from './device-authenticator.js';
import { TopicPolicy } from './topic-policy.js';
import { MqttBroker } from './mqtt-broker.js';
import { CommandDelivery } from './command-delivery.js';

/** The MQTT broker and its policy hooks. Needs RuntimeModule (config, database, metrics). */
@Module({
  providers: [DeviceAuthenticator, TopicPolicy, CommandDelivery, MqttBroker],
  exports: [MqttBroker],
})
export class BrokerModule {}
