import { describe, expect, it } from '@jest/globals';
import { OutboxSender, type OutboxWork } from './outbox-sender.js';

interface Row {
  readonly id: string;
}

/** An outbox in memory: `due` rows are claimed in order; each delivery waits until released. */
function memoryOutbox(options: { concurrency: number; sweepMs?: number; failClaims?: number }) {
  const due: Row[] = [];
  const claims: number[] = [];
  const delivered: string[] = [];
  const aborted: string[] = [];
  const failed: string[] = [];
  const pending = new Map<string, () => void>();
  let failClaims = options.failClaims ?? 0;
  const work: OutboxWork<Row> = {
    name: 'Test outbox',
    concurrency: options.concurrency,
    sweepMs: options.sweepMs ?? 60_000,
    claim: async (limit) => {
      claims.push(limit);
      if (failClaims > 0) {
        failClaims -= 1;
        throw new Error('database unreachable');
      }
      return due.splice(0, limit);
    },
    deliver: (row, signal) =>
      new Promise<void>((resolve, reject) => {
        pending.set(row.id, () => {
          delivered.push(row.id);
          resolve();
        });
        signal.addEventListener('abort', () => {
          aborted.push(row.id);
          reject(new Error('aborted'));
        });
      }),
    failed: (row) => void failed.push(row.id),
  };
  const release = (id: string) => {
    pending.get(id)?.();
    pending.delete(id);
  };
  return { work, due, claims, delivered, aborted, failed, pending, release };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 20));
const rows = (...ids: string[]) => ids.map((id) => ({ id }));

describe(OutboxSender.name, () => {
  it('claims up to its concurrency, and claims again as each row is done', async () => {
    const outbox = memoryOutbox({ concurrency: 2 });
    outbox.due.push(...rows('a', 'b', 'c'));
    const sender = new OutboxSender(outbox.work);
    sender.start();
    await settle();
    expect([...outbox.pending.keys()]).toEqual(['a', 'b']); // two in flight, `c` waits for room

    outbox.release('a');
    await settle();
    expect([...outbox.pending.keys()]).toEqual(['b', 'c']);
    outbox.release('b');
    outbox.release('c');
    await settle();
    expect(outbox.delivered).toEqual(['a', 'b', 'c']);
    await sender.stop({ abort: false });
  });

  it('looks again at once when woken, not at the next sweep', async () => {
    const outbox = memoryOutbox({ concurrency: 4, sweepMs: 60_000 });
    const sender = new OutboxSender(outbox.work);
    sender.start();
    await settle();
    outbox.due.push(...rows('late'));
    sender.wake();
    await settle();
    expect([...outbox.pending.keys()]).toEqual(['late']);
    outbox.release('late');
    await sender.stop({ abort: false });
  });

  it('keeps sweeping through a database outage, and sends what waited once it is back', async () => {
    const outbox = memoryOutbox({ concurrency: 4, sweepMs: 10, failClaims: 3 });
    outbox.due.push(...rows('waited'));
    const sender = new OutboxSender(outbox.work);
    sender.start();
    for (let i = 0; i < 50 && !outbox.pending.has('waited'); i++) await settle();
    expect(outbox.claims.length).toBeGreaterThan(3); // the failed claims, then the one that worked
    expect([...outbox.pending.keys()]).toEqual(['waited']);
    outbox.release('waited');
    await sender.stop({ abort: false });
    expect(outbox.delivered).toEqual(['waited']);
  });

  it('stops waiting for the rows in flight, or aborting them', async () => {
    const outbox = memoryOutbox({ concurrency: 4 });
    outbox.due.push(...rows('kept', 'cut'));
    const sender = new OutboxSender(outbox.work);
    sender.start();
    await settle();
    let stopped = false;
    const stopping = sender.stop({ abort: false }).then(() => (stopped = true));
    await settle();
    expect(stopped).toBe(false); // still waiting for both
    outbox.release('kept');
    outbox.release('cut');
    await stopping;
    expect(outbox.delivered).toEqual(['kept', 'cut']);

    const other = memoryOutbox({ concurrency: 4 });
    other.due.push(...rows('x'));
    const aborting = new OutboxSender(other.work);
    aborting.start();
    await settle();
    await aborting.stop({ abort: true });
    expect(other.aborted).toEqual(['x']);
    expect(other.failed).toEqual(['x']); // its outcome was not recorded: claimed again later
    other.due.push(...rows('after'));
    aborting.wake();
    await settle();
    expect(other.pending.has('after')).toBe(false); // a stopped sender claims nothing
  });
});
