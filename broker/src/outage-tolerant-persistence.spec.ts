import { describe, expect, it } from '@jest/globals';
import type { Redis } from 'ioredis';
import { OutageTolerantPersistence, type AedesPersistence } from './outage-tolerant-persistence.js';
import type { RedisOutage } from './redis-outage.js';

/**
 * The Redis plug-in's way of adding subscriptions: it broadcasts them and waits for its own
 * broadcast to come back, the waiter keyed by client and first topic — a second call with the
 * same first topic, made before the first came back, replaces the first's waiter.
 */
function pluginLike(): { persistence: AedesPersistence; calls: number } {
  const waiting = new Map<string, () => void>();
  const state = { calls: 0 } as { persistence: AedesPersistence; calls: number };
  state.persistence = {
    addSubscriptions: (client: { id: string }, subs: { topic: string }[]) => {
      state.calls += 1;
      const key = `${client.id}-${subs[0]!.topic}`;
      return new Promise<void>((resolve) => {
        waiting.set(key, resolve);
        setTimeout(() => {
          const waiter = waiting.get(key);
          waiting.delete(key);
          waiter?.();
        }, 5);
      });
    },
  } as unknown as AedesPersistence;
  return state;
}

const within = <T>(p: Promise<T>, ms: number) =>
  Promise.race([p.then(() => 'done' as const), new Promise<'hung'>((r) => setTimeout(() => r('hung'), ms))]);

describe('OutageTolerantPersistence.addSubscriptions', () => {
  const subs = [{ topic: 'amr/v1/dev/b/ack', qos: 1 }, { topic: 'amr/v1/dev/b/cmd', qos: 1 }];

  it('completes both of aedes\' identical calls for one SUBSCRIBE of two topics (the plug-in alone leaves one hanging)', async () => {
    const bare = pluginLike();
    const both = Promise.all([bare.persistence.addSubscriptions({ id: 'b' }, subs), bare.persistence.addSubscriptions({ id: 'b' }, subs)]);
    expect(await within(both, 100)).toBe('hung');

    const inner = pluginLike();
    const wrapped = new OutageTolerantPersistence(inner.persistence, {} as Redis, {} as RedisOutage);
    const calls = Promise.all([wrapped.addSubscriptions({ id: 'b' }, subs), wrapped.addSubscriptions({ id: 'b' }, subs)]);
    expect(await within(calls, 1000)).toBe('done');
    expect(inner.calls).toBe(1);
  });

  it('runs a client\'s different calls one after the other, and other clients\' at once', async () => {
    const inner = pluginLike();
    const wrapped = new OutageTolerantPersistence(inner.persistence, {} as Redis, {} as RedisOutage);
    const calls = Promise.all([
      wrapped.addSubscriptions({ id: 'b' }, subs),
      wrapped.addSubscriptions({ id: 'b' }, [subs[0]!]),
      wrapped.addSubscriptions({ id: 'c' }, subs),
    ]);
    expect(await within(calls, 1000)).toBe('done');
    expect(inner.calls).toBe(3);
  });
});
