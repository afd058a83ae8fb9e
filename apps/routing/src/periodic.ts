/**
 * A sweep run every interval, never two at once (a slow one makes the next wait for it, not
 * overlap), its failures reported and the loop kept going; `stop()` waits for the one running.
 * What the escalation, supervision and retention sweeps share.
 */
export class Periodic {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;

  constructor(
    private readonly run: () => Promise<unknown>,
    private readonly onError: (err: unknown) => void,
  ) {}

  /** `unref`: the timer alone does not keep the process alive. */
  start(intervalMs: number, options: { unref?: boolean } = {}): void {
    this.timer = setInterval(() => {
      this.running ??= this.run()
        .catch(this.onError)
        .finally(() => (this.running = undefined));
    }, intervalMs);
    if (options.unref) this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }
}
