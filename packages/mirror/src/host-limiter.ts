/**
 * At most `limit` requests at once per host; the others wait in order. Node's Agent cannot be the
 * limit for us: it counts a connection only once it exists, so an agent that creates connections
 * asynchronously (a CONNECT tunnel) would open more than `maxSockets` in a burst.
 */
export class HostLimiter {
  private readonly hosts = new Map<string, { active: number; waiting: Array<() => void> }>();

  constructor(private readonly limit: number) {}

  /** Resolves with the function that gives the slot back (call it once); rejects if `signal` aborts while waiting. */
  async acquire(host: string, signal?: AbortSignal): Promise<() => void> {
    signal?.throwIfAborted();
    let entry = this.hosts.get(host);
    if (!entry) {
      entry = { active: 0, waiting: [] };
      this.hosts.set(host, entry);
    }
    const slot = entry;
    if (slot.active >= this.limit) {
      await new Promise<void>((resolve, reject) => {
        const onAbort = () => {
          const at = slot.waiting.indexOf(go);
          if (at !== -1) slot.waiting.splice(at, 1);
          reject(signal!.reason);
        };
        const go = () => {
          signal?.removeEventListener("abort", onAbort);
          resolve();
        };
        slot.waiting.push(go);
        signal?.addEventListener("abort", onAbort, { once: true });
      });
    } else {
      slot.active++;
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = slot.waiting.shift();
      // The slot passes to the next waiter as it is (active unchanged).
      if (next) return next();
      slot.active--;
      if (slot.active === 0) this.hosts.delete(host);
    };
  }
}
