/** Timers that one `clearAll()` cancels, so a shut-down member leaves nothing scheduled. */
export class Timers {
  private readonly live = new Set<NodeJS.Timeout>();
  private closed = false;

  /** Runs `fn` once after `ms`; returns a handle for `clear`. After `clearAll()` nothing is scheduled. */
  after(ms: number, fn: () => void): NodeJS.Timeout | undefined {
    if (this.closed) return undefined;
    const handle = setTimeout(
      () => {
        this.live.delete(handle);
        fn();
      },
      Math.max(0, ms),
    );
    this.live.add(handle);
    return handle;
  }

  every(ms: number, fn: () => void): NodeJS.Timeout | undefined {
    if (this.closed) return undefined;
    const handle = setInterval(fn, ms);
    this.live.add(handle);
    return handle;
  }

  clear(handle: NodeJS.Timeout | undefined): void {
    if (!handle) return;
    clearTimeout(handle);
    this.live.delete(handle);
  }

  /** Resolves after `ms`, or at once when the timers are cleared. */
  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      if (!this.after(ms, resolve)) resolve();
    });
  }

  clearAll(): void {
    this.closed = true;
    for (const handle of this.live) clearTimeout(handle);
    this.live.clear();
  }

  get size(): number {
    return this.live.size;
  }
}
