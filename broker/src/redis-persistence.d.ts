// aedes-persistence-redis ships no types: the part of its API the broker uses.
declare module 'aedes-persistence-redis' {
  import type { Redis } from 'ioredis';

  interface RedisPersistenceOptions {
    /** An ioredis connection of our own (its options: key prefix, timeouts, offline queue). */
    conn?: Redis;
    /** Queued messages sent to a session when it reconnects (default 1000). */
    maxSessionDelivery?: number;
  }

  /**
   * aedes' persistence interface, promise style (each method also takes a callback; `destroy(cb)`
   * never calls it back).
   */
  interface RedisPersistence {
    setup(broker: unknown): Promise<void>;
    destroy(): Promise<void>;
    [method: string]: unknown;
  }

  export default function redisPersistence(options?: RedisPersistenceOptions): RedisPersistence;
}
