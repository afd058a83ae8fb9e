import type { AmrConfig } from '@amr/config';

/**
 * Where the platform's internal MQTT clients find the broker: MQTT_URL, or — when the broker runs in
 * the same process — the address it actually bound (MQTT_PORT may be 0 in tests).
 */
export class BrokerAddress {
  url: string;
  /** Set when the broker runs in this process: a QoS 1 publish without a round trip over a socket. */
  local: ((topic: string, payload: Buffer) => Promise<void>) | undefined;

  constructor(config: AmrConfig) {
    this.url = config.mqtt.url;
  }
}
