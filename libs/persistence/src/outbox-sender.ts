import { Logger } from '@nestjs/common';

/** What an outbox sender does with its rows; the sender decides when. */
export interface OutboxWork<Row extends { readonly id: string }> {
  /** For log lines: "Webhook outbox", "SMS outbox". */
  readonly name: string;
  /** Rows handled at the same time, at most. */
  readonly concurrency: number;
  /** Due rows are looked for this often (retries, rows a stopped node left); a wake looks at once. */
  readonly sweepMs: number;
  /** Claims up to `limit` due rows, leased to this sender (FOR UPDATE SKIP LOCKED: any number of nodes). */
  claim(limit: number): Promise<Row[]>;
  /** Sends one claimed row and records its outcome; `signal` aborts it when the sender stops with `abort`. */
  deliver(row: Row, signal: AbortSignal): Promise<void>;
  /** A row whose outcome could not be recorded: its lease runs out and it is claimed again. */
  failed(row: Row, err: unknown): void;
}

/**
 * The loop of a durable outbox: claims due rows up to its concurrency, hands each to `deliver`,
 * claims again at once while rows keep coming (a full batch, a wake during a claim, a row done),
 * else at the next sweep. A database that cannot be read is logged once per outage, and the rows
 * wait. All state is in the rows: a restart, or another node, resumes where this one stopped.
 */
export class OutboxSender<Row extends { readonly id: string }> {
  private readonly logger: Logger;
  private stopped = true;
  private timer: NodeJS.Timeout | undefined;
  private claiming: Promise<void> | undefined;
  private wokenWhileClaiming = false;
  private dbFailing = false;
  private readonly inFlight = new Map<string, { readonly abort: AbortController; readonly done: Promise<void> }>();

  constructor(private readonly work: OutboxWork<Row>) {
    this.logger = new Logger(work.name.replace(/\s+/g, ''));
  }

  start(): void {
    this.stopped = false;
    this.wake();
  }

  /** Looks for due rows now rather than at the next sweep (a transaction wrote some). */
  wake(): void {
    this.schedule(0);
  }

  /**
   * Stops claiming and waits for the rows in flight: answered and recorded, or — with `abort` —
   * aborted (they are claimed again once their lease ends).
   */
  async stop(options: { abort: boolean }): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.claiming;
    if (options.abort) for (const { abort } of this.inFlight.values()) abort.abort();
    await Promise.all([...this.inFlight.values()].map((f) => f.done));
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    if (this.claiming) {
      if (delayMs === 0) this.wokenWhileClaiming = true;
      return;
    }
    if (this.timer) {
      if (delayMs > 0) return;
      clearTimeout(this.timer);
    }
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.tick();
    }, delayMs);
  }

  private async tick(): Promise<void> {
    const room = this.work.concurrency - this.inFlight.size;
    let claimed = 0;
    if (room > 0 && !this.stopped) {
      this.claiming = this.claim(room)
        .then((rows) => {
          claimed = rows.length;
          for (const row of rows) this.launch(row);
        })
        .finally(() => (this.claiming = undefined));
      await this.claiming;
    }
    // More may be due right away when this batch was full; otherwise wait for a sweep or a wake.
    const again = this.wokenWhileClaiming || (claimed === room && room > 0);
    this.wokenWhileClaiming = false;
    this.schedule(again ? 0 : this.work.sweepMs);
  }

  private async claim(limit: number): Promise<Row[]> {
    try {
      const rows = await this.work.claim(limit);
      if (this.dbFailing) this.logger.log(`${this.work.name} readable again`);
      this.dbFailing = false;
      return rows;
    } catch (err) {
      // Once per outage, not once per sweep.
      if (!this.dbFailing && !this.stopped) this.logger.error(`${this.work.name} not readable, its rows wait: ${String(err)}`);
      this.dbFailing = true;
      return [];
    }
  }

  private launch(row: Row): void {
    const abort = new AbortController();
    const done = this.work
      .deliver(row, abort.signal)
      .catch((err: unknown) => this.work.failed(row, err))
      .finally(() => {
        this.inFlight.delete(row.id);
        this.wake();
      });
    this.inFlight.set(row.id, { abort, done });
  }
}
