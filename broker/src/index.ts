export { BrokerModule } from './broker.module.js';
export { MqttBroker, ListenError } from './mqtt-broker.js';
