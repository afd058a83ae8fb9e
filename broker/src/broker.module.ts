import { Module } from '@nestjs/common';
import { DeviceAuthenticator } from './device-authenticator.js';
import { DeviceCredentials } from './device-credentials.js';
import { AuthThrottle } from './auth-throttle.js';
import { TopicPolicy } from './topic-policy.js';
import { MqttBroker } from './mqtt-broker.js';
import { CommandDelivery } from './command-delivery.js';
import { ConnectionGate } from './connection-gate.js';
import { ConnectionState } from './connection-state.js';
import { RefusalSummary } from './refusal-summary.js';

/** The MQTT broker and its policy hooks. Needs RuntimeModule (config, database, metrics). */
@Module({
  providers: [DeviceAuthenticator, DeviceCredentials, AuthThrottle, TopicPolicy, CommandDelivery, ConnectionGate, ConnectionState, RefusalSummary, MqttBroker],
  exports: [MqttBroker],
})
export class BrokerModule {}
