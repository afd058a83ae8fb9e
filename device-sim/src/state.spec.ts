import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SeqStore, StateFileError } from './state.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'amr-sim-state-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('SeqStore', () => {
  it('starts at 1 and keeps counting across instances (as firmware across reboots)', async () => {
    const first = new SeqStore(dir);
    expect(await first.last('dev-0001')).toBeUndefined();
    expect(await first.next('dev-0001')).toBe(1);
    expect(await first.next('dev-0001')).toBe(2);
    const second = new SeqStore(dir);
    expect(await second.last('dev-0001')).toBe(2);
    expect(await second.next('dev-0001')).toBe(3);
    expect(JSON.parse(await readFile(join(dir, 'dev-0001.json'), 'utf8'))).toMatchObject({ deviceId: 'dev-0001', seq: 3 });
  });

  it('keeps one counter per device', async () => {
    const store = new SeqStore(dir);
    await store.next('dev-a01');
    await store.next('dev-a01');
    expect(await store.next('dev-b01')).toBe(1);
  });

  it('never hands out the same seq twice, even to concurrent presses', async () => {
    const seqs = await Promise.all([...Array(20)].map((_, i) => new SeqStore(dir).next(i % 2 ? 'dev-0001' : 'dev-0002')));
    expect(seqs.filter((_, i) => i % 2).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(new Set(seqs.filter((_, i) => i % 2 === 0)).size).toBe(10);
  });

  it('wraps after 2^32 − 1 like a uint32 counter', async () => {
    await writeFile(join(dir, 'dev-0001.json'), JSON.stringify({ deviceId: 'dev-0001', seq: 0xffffffff }));
    expect(await new SeqStore(dir).next('dev-0001')).toBe(0);
  });

  it('refuses a damaged state file with a clear message instead of guessing', async () => {
    await writeFile(join(dir, 'dev-0001.json'), '{nope');
    await expect(new SeqStore(dir).next('dev-0001')).rejects.toThrow(StateFileError);
    await writeFile(join(dir, 'dev-0002.json'), JSON.stringify({ seq: -1 }));
    await expect(new SeqStore(dir).next('dev-0002')).rejects.toThrow(/no valid seq/);
  });

  it('creates its directory and refuses ids that are not device ids (no path escapes)', async () => {
    const nested = join(dir, 'a', 'b');
    expect(await new SeqStore(nested).next('dev-0001')).toBe(1);
    expect(() => new SeqStore(dir).file('../etc')).toThrow(TypeError);
  });
});
