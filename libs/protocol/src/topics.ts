/**
 * Device identity and MQTT topic names (CONTRACT §1, §2). A topic is
 * `amr/v1/dev/{deviceId}/{channel}`; the broker's ACL and the topics the platform publishes to are
 * both built from these functions so that they can never disagree.
 */

// CONTRACT §1: a device id matches ^[A-Za-z0-9_-]{3,64}$ — which also keeps MQTT wildcards
// ('+', '#') and the level separator ('/') out of every topic built from it.
export const DEVICE_ID_PATTERN = /^[A-Za-z0-9_-]{3,64}$/;

export function isDeviceId(value: unknown): value is string {
  return typeof value === 'string' && DEVICE_ID_PATTERN.test(value);
}

/** Device → platform (CONTRACT §2). */
export type UpChannel = 'alarm' | 'loc' | 'status';
/** Platform → device (CONTRACT §2). */
export type DownChannel = 'ack' | 'cmd';
export type Channel = UpChannel | DownChannel;

export const UP_CHANNELS: readonly UpChannel[] = Object.freeze(['alarm', 'loc', 'status'] as const);
export const DOWN_CHANNELS: readonly DownChannel[] = Object.freeze(['ack', 'cmd'] as const);

/** The first three topic levels, shared by every device topic (CONTRACT §2). */
export const TOPIC_PREFIX = 'amr/v1/dev';

export function isUpChannel(value: unknown): value is UpChannel {
  return (UP_CHANNELS as readonly unknown[]).includes(value);
}

export function isDownChannel(value: unknown): value is DownChannel {
  return (DOWN_CHANNELS as readonly unknown[]).includes(value);
}

export function isChannel(value: unknown): value is Channel {
  return isUpChannel(value) || isDownChannel(value);
}

/**
 * `amr/v1/dev/{deviceId}/{channel}`. Throws a TypeError for an invalid device id or channel: that
 * is a programming error, and a topic built from one could contain wildcards.
 */
export function deviceTopic(deviceId: string, channel: Channel): string {
  if (!isDeviceId(deviceId)) throw new TypeError(`not a device id: ${JSON.stringify(deviceId)}`);
  if (!isChannel(channel)) throw new TypeError(`not a channel: ${JSON.stringify(channel)}`);
  return `${TOPIC_PREFIX}/${deviceId}/${channel}`;
}

/**
 * The device id and channel of a device topic, or null for anything that is not exactly
 * `amr/v1/dev/{valid id}/{known channel}` (other prefixes, extra or missing levels, wildcards).
 */
export function parseDeviceTopic(topic: string): { deviceId: string; channel: Channel } | null {
  if (typeof topic !== 'string') return null;
  const levels = topic.split('/');
  if (levels.length !== 5) return null;
  const [amr, version, dev, deviceId, channel] = levels;
  if (`${amr}/${version}/${dev}` !== TOPIC_PREFIX) return null;
  if (!isDeviceId(deviceId) || !isChannel(channel)) return null;
  return { deviceId, channel };
}
