import { describe, expect, it } from '@jest/globals';
import { dueAt, dueCount, Pacer, runPaced } from './pacing.js';

describe('dueCount', () => {
  it('makes the first press due at once, then one every 1000/rate ms, never more than the total', () => {
    expect(dueCount(5000, 0, 100)).toBe(1);
    expect(dueCount(5000, 0.19, 100)).toBe(1);
    expect(dueCount(5000, 0.2, 100)).toBe(2);
    expect(dueCount(5000, 1, 100)).toBe(6);
    expect(dueCount(5000, 1000, 10_000)).toBe(5001);
    expect(dueCount(5000, 1000, 100)).toBe(100);
    expect(dueCount(10, 99.9, 100)).toBe(1);
    expect(dueCount(10, 100, 100)).toBe(2);
  });

  it('has nothing due before the start or at a zero rate', () => {
    expect(dueCount(100, -1, 10)).toBe(0);
    expect(dueCount(0, 1000, 10)).toBe(0);
  });

  it('puts press i at i / rate seconds', () => {
    expect(dueAt(5000, 0)).toBe(0);
    expect(dueAt(5000, 5000)).toBe(1000);
    expect(dueAt(4, 3)).toBe(750);
  });
});

describe(Pacer.name, () => {
  it('sends in batches what each tick finds due, and keeps the rate however late the ticks come', () => {
    const pacer = new Pacer(5000, 1000); // 5,000 presses over 1 s
    expect(pacer.total).toBe(5000);
    let at = 0;
    const batches: number[] = [];
    // ticks every 1.1 ms, with a 50 ms stall in the middle (a busy event loop)
    while (!pacer.done) {
      at += at > 500 && at < 502 ? 50 : 1.1;
      const n = pacer.due(at);
      batches.push(n);
      pacer.record(n, at);
    }
    expect(pacer.sent).toBe(5000);
    expect(Math.max(...batches)).toBeGreaterThanOrEqual(250); // the stall's backlog went out in one tick
    const r = pacer.result();
    expect(r.achievedRate).toBeGreaterThan(4900);
    expect(r.achievedRate).toBeLessThanOrEqual(5010);
    expect(r.lagMs.max).toBeGreaterThanOrEqual(49); // the stall shows as lag …
    expect(r.lagMs.p50).toBeLessThan(1.2); // … not as a lower rate
    expect(r.heldBack).toBe(0);
  });

  it('keeps presses due while no device is free, and counts each held-back press once', () => {
    const pacer = new Pacer(1000, 10); // 10 presses, one per ms
    pacer.record(0, 0, pacer.due(0)); // 1 due, none sent
    pacer.record(1, 2, pacer.due(2)); // 3 due, 1 sent
    pacer.record(0, 3, pacer.due(3)); // 3 due, none sent
    expect(pacer.sent).toBe(1);
    expect(pacer.due(3)).toBe(3);
    pacer.record(3, 10, pacer.due(10)); // 9 due, 3 sent
    // every press waited at some tick: press 0 at 0, 1–2 at 2, 3 at 3, 4–9 at 10 (each counted once)
    expect(pacer.result().heldBack).toBe(10);
    expect(pacer.sent).toBe(4);
    expect(pacer.result().lagMs.max).toBe(9); // press 1, due at 1, sent at 10
  });

  it('reports the rate actually reached when presses stop early', () => {
    const pacer = new Pacer(100, 1000);
    for (let t = 0; t < 500; t += 10) pacer.record(pacer.due(t), t);
    const r = pacer.result();
    expect(r.sent).toBe(50);
    expect(r.asked).toBe(100);
    expect(r.achievedRate).toBeCloseTo(100, 0);
  });
});

describe('runPaced', () => {
  it('reaches the asked rate with a real timer, in batches', async () => {
    const sizes: number[] = [];
    const result = await runPaced({
      rate: 5000,
      durationMs: 300,
      send: (n) => {
        sizes.push(n);
        return n;
      },
    });
    expect(result.sent).toBe(1500);
    expect(result.achievedRate).toBeGreaterThan(4500);
    expect(sizes.length).toBeLessThan(1500); // several presses per tick, not a timer per press
  });

  it('stops on abort', async () => {
    const abort = new AbortController();
    setTimeout(() => abort.abort(), 50);
    const result = await runPaced({ rate: 100, durationMs: 10_000, send: (n) => n, signal: abort.signal });
    expect(result.sent).toBeLessThan(100);
  });
});
