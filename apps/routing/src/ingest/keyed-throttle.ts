/**
 * Runs an action at most once per interval for each key: the first call at once, and the calls
 * made during the interval together once at its end (leading and trailing edge), so the last state
 * is never lost however many calls a key gets. Entries live only while their interval runs.
 */
export class KeyedThrottle<T> {
  private readonly windows = new Map<string, { pending: T | undefined; timer: NodeJS.Timeout }>();

  /**
   * @param run the action, with the merged argument of the calls it stands for
   * @param merge combines a pending argument with a new one (default: the newest wins)
   */
  constructor(
    private readonly intervalMs: number,
    private readonly run: (key: string, arg: T) => void,
    private readonly merge: (pending: T, next: T) => T = (_pending, next) => next,
  ) {}

  /** Returns false when the call was folded into the end of a running interval. */
  call(key: string, arg: T): boolean {
    const fresh = this.enter(key, arg);
    if (fresh) this.run(key, arg);
    return fresh;
  }

  /**
   * As `call`, but the first call's action is the caller's own: true when no interval runs for the
   * key (one starts now, and the caller acts at once), false when the call was folded into the end
   * of the running one (where `run` acts for it).
   */
  enter(key: string, arg: T): boolean {
    const open = this.windows.get(key);
    if (open) {
      open.pending = open.pending === undefined ? arg : this.merge(open.pending, arg);
      return false;
    }
    const window = {
      pending: undefined as T | undefined,
      timer: setTimeout(() => {
        this.windows.delete(key);
        if (window.pending !== undefined) this.call(key, window.pending);
      }, this.intervalMs),
    };
    window.timer.unref();
    this.windows.set(key, window);
    return true;
  }

  /** Whether an interval runs for the key (a call now would be folded). */
  has(key: string): boolean {
    return this.windows.has(key);
  }

  /** Drops every pending call (shutdown). */
  clear(): void {
    for (const window of this.windows.values()) clearTimeout(window.timer);
    this.windows.clear();
  }
}
