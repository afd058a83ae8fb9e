import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from '@jest/globals';
import { GroupCommit } from './group-commit.js';

/** Adds `count` items `gapMs` apart and returns the batches they were run in. */
async function batchesOf(options: { lingerMs?: number }, count: number, gapMs: number): Promise<number[][]> {
  const batches: number[][] = [];
  const commit = new GroupCommit<number>(async (batch) => void batches.push(batch), { maxBatch: 100, ...options });
  for (let i = 0; i < count; i++) {
    commit.add(i);
    await sleep(gapMs);
  }
  await sleep((options.lingerMs ?? 0) + 50);
  return batches;
}

describe('GroupCommit', () => {
  it('runs items that trickle in one by one when nothing holds them', async () => {
    const batches = await batchesOf({}, 4, 10);
    expect(batches).toEqual([[0], [1], [2], [3]]);
  });

  it('with lingerMs, holds the first item that long so that those arriving meanwhile join it', async () => {
    const batches = await batchesOf({ lingerMs: 200 }, 4, 10);
    expect(batches).toEqual([[0, 1, 2, 3]]);
  });

  it('with lingerMs, starts a new batch for an item that comes after the wait', async () => {
    const batches = await batchesOf({ lingerMs: 30 }, 2, 150);
    expect(batches).toEqual([[0], [1]]);
  });
});
