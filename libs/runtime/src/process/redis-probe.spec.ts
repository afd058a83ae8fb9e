import { afterEach, describe, expect, it } from '@jest/globals';
import { loadConfig } from '@amr/config';
import { RedisProbe } from './redis-probe.js';

const redisUrl = process.env.TEST_REDIS_URL || undefined;

describe(RedisProbe.name, () => {
  let probe: RedisProbe | undefined;
  afterEach(async () => probe?.onApplicationShutdown());

  it('says "not configured" without REDIS_URL', async () => {
    probe = new RedisProbe(loadConfig({}));
    expect(await probe.state()).toBe('not configured');
  });

  it('says "down" within about a second when nothing answers', async () => {
    probe = new RedisProbe(loadConfig({ REDIS_URL: 'redis://127.0.0.1:1' }));
    const started = Date.now();
    expect(await probe.state()).toBe('down');
    expect(Date.now() - started).toBeLessThan(3000);
  });

  (redisUrl ? it : it.skip)('says "up" at the very first question of a process, not "down" while its connection opens', async () => {
    probe = new RedisProbe(loadConfig({ REDIS_URL: redisUrl! }));
    expect(await probe.state()).toBe('up');
  });
});
