export { RoutingModule } from './routing.module.js';
export { MqttIngressServer } from './ingress/mqtt-ingress.server.js';
