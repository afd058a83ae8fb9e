import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { Redis } from 'ioredis';
import type { AmrConfig } from '@amr/config';
import { AMR_CONFIG } from './tokens.js';

export type RedisState = 'up' | 'down' | 'not configured';

/** How long a PING may take before Redis counts as down. */
const PING_TIMEOUT_MS = 1_000;

/**
 * The state of the deployment's Redis (REDIS_URL), for `/health`: a connection of its own that
 * answers PING. Without REDIS_URL the platform runs as a single node and this reports so.
 */
@Injectable()
export class RedisProbe implements OnApplicationShutdown {
  private readonly logger = new Logger('Redis');
  private client: Redis | undefined;
  private down = false;

  constructor(@Inject(AMR_CONFIG) private readonly config: AmrConfig) {}

  async state(): Promise<RedisState> {
    const url = this.config.redisUrl;
    if (!url) return 'not configured';
    this.client ??= this.connect(url);
    // Its connection is opened at the first question (a process just started, or Redis just back):
    // the answer waits for it as long as it would wait for a PING, rather than saying "down" at once.
    if (!(await ready(this.client, PING_TIMEOUT_MS))) return 'down';
    const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error('timeout')), PING_TIMEOUT_MS).unref());
    return Promise.race([this.client.ping(), timeout]).then(() => 'up' as const, () => 'down' as const);
  }

  async onApplicationShutdown(): Promise<void> {
    this.client?.disconnect();
  }

  private connect(url: string): Redis {
    const client = new Redis(url, { lazyConnect: false, enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => 1000 });
    client.on('error', (err: Error) => {
      if (!this.down) this.logger.warn(`Redis unreachable: ${err.message}`);
      this.down = true;
    });
    client.on('ready', () => {
      if (this.down) this.logger.log('Redis reachable again');
      this.down = false;
    });
    return client;
  }
}

/** Whether the client is, or within `ms` becomes, ready for commands. */
function ready(client: Redis, ms: number): Promise<boolean> {
  if (client.status === 'ready') return Promise.resolve(true);
  return new Promise((resolve) => {
    const done = (value: boolean) => {
      clearTimeout(timer);
      client.off('ready', onReady);
      resolve(value);
    };
    const onReady = () => done(true);
    const timer = setTimeout(() => done(false), ms);
    timer.unref();
    client.once('ready', onReady);
  });
}
