/**
 * A first-in, first-out mutex. `acquire()` resolves with a release function once every earlier
 * caller has released; waiters are served strictly in arrival order.
 */
export class FifoMutex {
  private locked = false;
  private readonly waiters: Array<{ grant: () => void }> = [];

  get isLocked(): boolean {
    return this.locked;
  }

  get waiting(): number {
    return this.waiters.length;
  }

  /**
   * @param timeoutMs give up after this long (0 = wait forever); the returned promise then
   *   rejects with `onTimeout()` and the caller leaves the queue.
   */
  acquire(timeoutMs = 0, onTimeout: () => Error = () => new Error('mutex wait timed out')): Promise<() => void> {
    if (!this.locked) {
      this.locked = true;
      return Promise.resolve(this.releaser());
    }
    return new Promise((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const waiter = {
        grant: () => {
          if (timer) clearTimeout(timer);
          resolve(this.releaser());
        },
      };
      this.waiters.push(waiter);
      if (timeoutMs > 0) {
        timer = setTimeout(() => {
          const i = this.waiters.indexOf(waiter);
          if (i !== -1) {
            this.waiters.splice(i, 1);
            reject(onTimeout());
          }
        }, timeoutMs);
        timer.unref();
      }
    });
  }

  private releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiters.shift();
      if (next) next.grant(); // the lock passes straight to the next waiter
      else this.locked = false;
    };
  }
}
