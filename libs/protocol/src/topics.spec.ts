import { describe, expect, it } from '@jest/globals';

import {
  DEVICE_ID_PATTERN,
  DOWN_CHANNELS,
  UP_CHANNELS,
  deviceTopic,
  isDeviceId,
  parseDeviceTopic,
} from './index.js';

describe(isDeviceId.name, () => {
  it.each(['abc', 'AMR-0001', 'dev_42', 'a'.repeat(64), '---', 'Z9_-z'])('accepts %j', (id) => {
    expect(isDeviceId(id)).toBe(true);
    expect(DEVICE_ID_PATTERN.test(id)).toBe(true);
  });

  it.each([
    ['2 characters', 'ab'],
    ['65 characters', 'a'.repeat(65)],
    ['empty', ''],
    ['a single-level wildcard', 'dev+1'],
    ['a multi-level wildcard', 'dev#1'],
    ['a level separator', 'dev/1'],
    ['a colon', 'dev:1'],
    ['a space', 'dev 1'],
    ['a dot', 'dev.1'],
    ['non-ASCII letters', 'gerät'],
    ['a trailing newline', 'dev1\n'],
  ])('rejects %s', (_what, id) => {
    expect(isDeviceId(id)).toBe(false);
  });

  it.each([[42], [null], [undefined], [['abc']], [{ id: 'abc' }]])('rejects the non-string %j', (value) => {
    expect(isDeviceId(value)).toBe(false);
  });
});

describe(deviceTopic.name, () => {
  it('builds the five topics of CONTRACT §2', () => {
    expect([...UP_CHANNELS, ...DOWN_CHANNELS].map((channel) => deviceTopic('AMR-0001', channel))).toEqual([
      'amr/v1/dev/AMR-0001/alarm',
      'amr/v1/dev/AMR-0001/loc',
      'amr/v1/dev/AMR-0001/status',
      'amr/v1/dev/AMR-0001/ack',
      'amr/v1/dev/AMR-0001/cmd',
    ]);
  });

  it.each(['+', '#', 'a/b/c', 'ab', ''])('refuses to build a topic for the invalid id %j', (id) => {
    expect(() => deviceTopic(id, 'ack')).toThrow(TypeError);
  });

  it('refuses an unknown channel', () => {
    expect(() => deviceTopic('AMR-0001', 'debug' as never)).toThrow(TypeError);
  });
});

describe(parseDeviceTopic.name, () => {
  it.each([...UP_CHANNELS, ...DOWN_CHANNELS])('reads the %s channel', (channel) => {
    expect(parseDeviceTopic(`amr/v1/dev/dev_42/${channel}`)).toEqual({ deviceId: 'dev_42', channel });
  });

  it('is the inverse of deviceTopic', () => {
    expect(parseDeviceTopic(deviceTopic('a'.repeat(64), 'status'))).toEqual({
      deviceId: 'a'.repeat(64),
      channel: 'status',
    });
  });

  it.each([
    ['a wrong version', 'amr/v2/dev/dev_42/alarm'],
    ['a wrong root', 'xmr/v1/dev/dev_42/alarm'],
    ['a wrong third level', 'amr/v1/device/dev_42/alarm'],
    ['a leading slash', '/amr/v1/dev/dev_42/alarm'],
    ['a trailing slash', 'amr/v1/dev/dev_42/alarm/'],
    ['an extra level', 'amr/v1/dev/dev_42/alarm/x'],
    ['a missing channel', 'amr/v1/dev/dev_42'],
    ['an unknown channel', 'amr/v1/dev/dev_42/debug'],
    ['an upper-case channel', 'amr/v1/dev/dev_42/ALARM'],
    ['a wildcard id', 'amr/v1/dev/+/alarm'],
    ['a multi-level wildcard', 'amr/v1/dev/#'],
    ['a 2-character id', 'amr/v1/dev/ab/alarm'],
    ['a 65-character id', `amr/v1/dev/${'a'.repeat(65)}/alarm`],
    ['an id with a colon', 'amr/v1/dev/dev:42/alarm'],
    ['an empty id', 'amr/v1/dev//alarm'],
    ['an empty topic', ''],
  ])('returns null for %s', (_what, topic) => {
    expect(parseDeviceTopic(topic)).toBeNull();
  });
});
