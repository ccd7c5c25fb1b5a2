import { KeyedSemaphore } from "@beskar-yum/storage";

/**
 * At most `limit` requests at once per host; the others wait in order (a `KeyedSemaphore`, the
 * shared primitive). Node's Agent cannot be the limit for us: it counts a connection only once it
 * exists, so an agent that creates connections asynchronously (a CONNECT tunnel) would open more
 * than `maxSockets` in a burst.
 */
export class HostLimiter {
  private readonly hosts: KeyedSemaphore;

  constructor(limit: number) {
    this.hosts = new KeyedSemaphore(limit);
  }

  /** Resolves with the function that gives the slot back (call it once); rejects if `signal` aborts while waiting. */
  acquire(host: string, signal?: AbortSignal): Promise<() => void> {
    return this.hosts.acquire(host, 1, signal);
  }
}
