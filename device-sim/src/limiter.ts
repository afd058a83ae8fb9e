/**
 * At most `concurrency` calls at a time; the others wait their turn in order. The simulated CIC's
 * operator calls go through one, as a centre's calls go through its desks: a thousand alarms a
 * second queue at the CIC instead of opening a thousand connections to the platform (and running
 * the simulator out of file descriptors beside its 10,000 devices).
 */
export class Limiter {
  private running = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(private readonly concurrency: number) {
    if (!(concurrency >= 1)) throw new Error(`concurrency must be at least 1, not ${concurrency}`);
  }

  /** Calls in flight and waiting. */
  get size(): number {
    return this.running + this.waiting.length;
  }

  async run<T>(call: () => Promise<T>): Promise<T> {
    if (this.running >= this.concurrency) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.running += 1;
    try {
      return await call();
    } finally {
      this.running -= 1;
      this.waiting.shift()?.();
    }
  }
}
