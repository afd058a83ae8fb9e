import { describe, expect, it } from '@jest/globals';
import type { DataSource } from 'typeorm';
import { DeviceCredentials, type StoredCredentials } from './device-credentials.js';

/** A database holding devices `btn-0` … `btn-{n-1}`, recording the id lists it was asked for. */
function fakeDb(n: number, answer?: (ids: string[]) => Promise<StoredCredentials[]>) {
  const queries: string[][] = [];
  const stored = async (ids: string[]) =>
    ids.filter((id) => Number(id.slice(4)) < n).map((id) => ({ id, secretHash: `sha256$${id}`, active: true, certFingerprint: null }));
  const respond = answer ?? stored;
  // the lookups take a connection (the embedded database's path: the DataSource's own) and run a prepared statement on it
  const client = {
    query: async ({ values: [ids] }: { values: [string[]] }) => {
      queries.push(ids);
      return { rows: await respond(ids) };
    },
  };
  const db = { options: {}, createQueryRunner: () => ({ connect: async () => client, release: async () => undefined }) } as unknown as DataSource;
  return { db, queries };
}

describe(DeviceCredentials.name, () => {
  it('answers lookups arriving together with one query', async () => {
    const { db, queries } = fakeDb(1000);
    const credentials = new DeviceCredentials(db);
    const found = await Promise.all(Array.from({ length: 1000 }, (_, i) => credentials.find(`btn-${i}`)));
    expect(found.map((d) => d?.id)).toEqual(Array.from({ length: 1000 }, (_, i) => `btn-${i}`));
    expect(queries.length).toBeLessThanOrEqual(2);
    expect(queries.flat()).toHaveLength(1000);
  });

  it('answers an unknown id with undefined, and the same id asked twice from one query', async () => {
    const { db, queries } = fakeDb(1);
    const credentials = new DeviceCredentials(db);
    const [a, b, unknown] = await Promise.all([credentials.find('btn-0'), credentials.find('btn-0'), credentials.find('btn-7')]);
    expect(a).toEqual({ id: 'btn-0', secretHash: 'sha256$btn-0', active: true, certFingerprint: null });
    expect(b).toBe(a);
    expect(unknown).toBeUndefined();
    expect(queries).toEqual([['btn-0', 'btn-7']]);
  });

  it('collects the lookups arriving while queries are in flight into the next one', async () => {
    const release: (() => void)[] = [];
    const { db, queries } = fakeDb(100, (ids) => new Promise((resolve) => release.push(() => resolve(ids.map((id) => ({ id, secretHash: 'h', active: true, certFingerprint: null }))))));
    const credentials = new DeviceCredentials(db);
    const first = [credentials.find('btn-0')];
    await new Promise((resolve) => setImmediate(resolve));
    const second = [credentials.find('btn-1')];
    await new Promise((resolve) => setImmediate(resolve));
    const waiting = Array.from({ length: 50 }, (_, i) => credentials.find(`btn-${i + 2}`));
    await new Promise((resolve) => setImmediate(resolve));
    expect(queries).toEqual([['btn-0'], ['btn-1']]);
    release.shift()!();
    await Promise.all(first);
    await new Promise((resolve) => setImmediate(resolve));
    expect(queries).toHaveLength(3);
    expect(queries[2]).toHaveLength(50);
    release.splice(0).forEach((r) => r());
    await Promise.all([...second, ...waiting]);
  });

  it('fails every lookup of a failed query, and keeps answering afterwards', async () => {
    let fail = true;
    const { db } = fakeDb(10, async (ids) => {
      if (fail) throw new Error('connection lost');
      return ids.map((id) => ({ id, secretHash: 'h', active: true, certFingerprint: null }));
    });
    const credentials = new DeviceCredentials(db);
    await expect(Promise.all([credentials.find('btn-1'), credentials.find('btn-2')])).rejects.toThrow('connection lost');
    fail = false;
    await expect(credentials.find('btn-3')).resolves.toMatchObject({ id: 'btn-3' });
  });
});
