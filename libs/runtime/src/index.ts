// What every process of the platform is given (RuntimeModule), in three parts.

// process/: configuration and database tokens, the module that provides them, start-up, logging, metrics, peers
export { AMR_CONFIG, DATA_SOURCE, NODE_ROLES } from './process/tokens.js';
export { RuntimeModule } from './process/runtime.module.js';
export type { RuntimeOptions } from './process/runtime.module.js';
export { runMain } from './process/run-main.js';
export { PlatformLogger } from './process/platform-logger.js';
export { logSafe } from './process/log-safe.js';
export { Metrics } from './process/metrics.js';
export { NodeRegistry } from './process/node-registry.js';
export type { NodeProcess } from './process/node-registry.js';
export { RedisProbe } from './process/redis-probe.js';
export type { RedisState } from './process/redis-probe.js';

// events/: the platform's event log in the database, and its relay to every process
export { PlatformEvents, isEventId, insertEventsSql, eventRows } from './events/events.js';
export type { PlatformEvent, PlatformEventType, LoggedEvent, Execute } from './events/events.js';

// devices/: the way to the devices (broker link, commands, SMS gateway) and from them (ingest port)
export { DeviceLink, KICK_TOPIC_PREFIX } from './devices/device-link.js';
export { DeviceLinkModule } from './devices/device-link.module.js';
export { DeviceCommands, markCommandDelivered } from './devices/device-commands.js';
export type { CommandView } from './devices/device-commands.js';
export { BrokerAddress } from './devices/broker-address.js';
export { IngestPort, DeviceFlooding } from './devices/device-ingest.js';
export type { DeviceIngest } from './devices/device-ingest.js';
export { SmsGateway, SMS_RETRY_DELAYS_MS, SMS_GATEWAY_TIMEOUT_MS, type SmsAttempt } from './devices/sms-gateway.js';
