export { RoutingModule } from './routing.module.js';
export { MqttIngressServer, INGRESS_LANES } from './ingress/mqtt-ingress.server.js';
export type { IngressLane } from './ingress/mqtt-ingress.server.js';
