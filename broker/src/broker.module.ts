import { Module } from '@nestjs/common';
import { DeviceAuthenticator } from './device-authenticator.js';
import { TopicPolicy } from './topic-policy.js';
import { MqttBroker } from './mqtt-broker.js';

/** The MQTT broker and its policy hooks. Needs RuntimeModule (config, database, metrics). */
@Module({
  providers: [DeviceAuthenticator, TopicPolicy, MqttBroker],
  exports: [MqttBroker],
})
export class BrokerModule {}
