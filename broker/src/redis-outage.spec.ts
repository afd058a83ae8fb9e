import { EventEmitter } from 'node:events';
import { describe, expect, it } from '@jest/globals';
import type { Redis } from 'ioredis';
import { RedisOutage, reasonOf } from './redis-outage.js';
import { describeRedisUrl } from './shared-state.js';

/** An ioredis connection as RedisOutage sees it: a status and its events. */
class FakeConnection extends EventEmitter {
  status = 'ready';

  lose(err: Error): void {
    this.status = 'reconnecting';
    this.emit('error', err);
    this.emit('reconnecting');
  }

  failAgain(err: Error): void {
    this.emit('error', err);
    this.emit('reconnecting');
  }

  recover(): void {
    this.status = 'ready';
    this.emit('ready');
  }
}

function watch(...connections: FakeConnection[]) {
  const log: string[] = [];
  const outage = new RedisOutage(connections as unknown as Redis[], {
    lost: (reason) => log.push(`lost: ${reason}`),
    restored: () => log.push('restored'),
  });
  return { outage, log };
}

describe(RedisOutage.name, () => {
  it('logs an outage once when it starts and once when every connection is back', () => {
    const pub = new FakeConnection();
    const sub = new FakeConnection();
    const { outage, log } = watch(pub, sub);
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6379'), { code: 'ECONNREFUSED' });
    pub.lose(refused);
    sub.lose(refused);
    for (let i = 0; i < 10; i++) pub.failAgain(refused);
    outage.down('another failed publish');
    expect(outage.ongoing).toBe(true);
    pub.recover();
    expect(outage.ongoing).toBe(true); // sub still down
    sub.recover();
    expect(outage.ongoing).toBe(false);
    expect(log).toEqual(['lost: connect ECONNREFUSED 127.0.0.1:6379', 'restored']);
    pub.lose(refused);
    expect(log).toHaveLength(3); // a new outage is logged again
  });

  it('counts only failures to reach Redis as an outage', () => {
    const conn = new FakeConnection();
    const { outage } = watch(conn);
    expect(outage.isOutage(conn as unknown as Redis, new Error('Command timed out'))).toBe(true);
    expect(outage.isOutage(conn as unknown as Redis, new Error('no such packet'))).toBe(false);
    conn.status = 'reconnecting';
    expect(outage.isOutage(conn as unknown as Redis, new Error('no such packet'))).toBe(true);
  });

  it('logs nothing once the node is shutting down', () => {
    const conn = new FakeConnection();
    const { outage, log } = watch(conn);
    outage.close();
    conn.lose(new Error('Connection is closed.'));
    expect(log).toEqual([]);
  });
});

describe('Redis messages', () => {
  it('name the server without the credentials of REDIS_URL', () => {
    expect(describeRedisUrl('redis://:s3cret@redis.internal:6380/2')).toBe('redis://redis.internal:6380/2');
    expect(describeRedisUrl('rediss://user:pw@10.0.0.5:6379')).toBe('rediss://10.0.0.5:6379');
  });

  it('give an error’s code with its message', () => {
    expect(reasonOf(Object.assign(new Error('getaddrinfo failed'), { code: 'ENOTFOUND' }))).toBe('ENOTFOUND: getaddrinfo failed');
    expect(reasonOf(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }))).toBe('connect ECONNREFUSED 127.0.0.1:1');
  });
});
