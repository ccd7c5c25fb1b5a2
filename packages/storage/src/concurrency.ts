/**
 * The one concurrency primitive of the code base: a FIFO semaphore with weights, and what is built
 * on it. A count limit is a semaphore of `n` units taken one at a time (`runBounded`, the upstream
 * client's per-host limit); a byte budget is one of `n` bytes taken by size (the mirror sync's
 * packages held in memory for the package thread).
 */

/** Gives back what `acquire` took; calling it again does nothing. */
export type Release = () => void;

interface Waiter {
  units: number;
  grant: () => void;
}

/**
 * `capacity` units handed out first come, first served: a request waits while taking its units would
 * exceed the capacity, and nobody overtakes a waiting request (a big one is not starved by small
 * ones). A request bigger than the whole capacity is granted alone, once nothing else is held, so
 * that one oversize item never deadlocks.
 */
export class Semaphore {
  private used = 0;
  private readonly queue: Waiter[] = [];

  constructor(readonly capacity: number) {
    if (!(capacity > 0)) throw new RangeError(`semaphore capacity must be positive, got ${capacity}`);
  }

  /** Units held now. */
  get held(): number {
    return this.used;
  }

  /** Requests waiting for units. */
  get waiting(): number {
    return this.queue.length;
  }

  /** Nothing held and nobody waiting. */
  get idle(): boolean {
    return this.used === 0 && this.queue.length === 0;
  }

  private fits(units: number): boolean {
    return this.used === 0 || this.used + units <= this.capacity;
  }

  /**
   * Resolves with the function that gives the units back once they are granted; rejects with
   * `signal`'s reason if it aborts first (nothing is then held).
   */
  acquire(units = 1, signal?: AbortSignal): Promise<Release> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.queue.length === 0 && this.fits(units)) {
      this.used += units;
      return Promise.resolve(this.releaser(units));
    }
    return new Promise<Release>((resolve, reject) => {
      const onAbort = () => {
        const at = this.queue.indexOf(waiter);
        if (at === -1) return;
        this.queue.splice(at, 1);
        reject(signal!.reason);
        // The head may have been what held the others back.
        this.drain();
      };
      const waiter: Waiter = {
        units,
        grant: () => {
          signal?.removeEventListener("abort", onAbort);
          resolve(this.releaser(units));
        },
      };
      this.queue.push(waiter);
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  private releaser(units: number): Release {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.used -= units;
      this.drain();
    };
  }

  private drain(): void {
    while (this.queue.length > 0 && this.fits(this.queue[0]!.units)) {
      const next = this.queue.shift()!;
      this.used += next.units;
      next.grant();
    }
  }
}

/**
 * A semaphore per key (an upstream host), made on first use and dropped once idle.
 */
export class KeyedSemaphore {
  private readonly byKey = new Map<string, Semaphore>();

  constructor(private readonly capacity: number) {}

  async acquire(key: string, units = 1, signal?: AbortSignal): Promise<Release> {
    let semaphore = this.byKey.get(key);
    if (!semaphore) {
      semaphore = new Semaphore(this.capacity);
      this.byKey.set(key, semaphore);
    }
    const forKey = semaphore;
    let release: Release;
    try {
      release = await forKey.acquire(units, signal);
    } catch (err) {
      this.forget(key, forKey);
      throw err;
    }
    return () => {
      release();
      this.forget(key, forKey);
    };
  }

  private forget(key: string, semaphore: Semaphore): void {
    if (semaphore.idle && this.byKey.get(key) === semaphore) this.byKey.delete(key);
  }

  /** Keys with units held or requests waiting (for tests). */
  get size(): number {
    return this.byKey.size;
  }
}

/**
 * Runs `work` over `items`, at most `limit` at a time (a `Semaphore` of `limit` slots). An async
 * iterable (a plan still being read) is asked for one item at a time, as a slot frees up.
 *
 * The first failure (of `work`, of the iterable, or `signal` aborting) stops handing out items: the
 * iterable is closed (`return`, so that what it reads is released), then every task already
 * started is waited for, whatever its outcome, and only then is the first failure thrown. Nothing
 * started by this call is still running when it returns or throws.
 */
export async function runBounded<T>(
  items: Iterable<T> | AsyncIterable<T>,
  limit: number,
  work: (item: T) => Promise<void>,
  options: { signal?: AbortSignal } = {},
): Promise<void> {
  const { signal } = options;
  const iterator =
    Symbol.asyncIterator in items
      ? (items as AsyncIterable<T>)[Symbol.asyncIterator]()
      : (items as Iterable<T>)[Symbol.iterator]();
  const slots = new Semaphore(Math.max(1, limit));
  const running = new Set<Promise<void>>();
  let failure: { error: unknown } | undefined;
  const fail = (error: unknown) => {
    failure ??= { error };
  };
  let exhausted = false;
  try {
    while (!failure) {
      let release: Release;
      try {
        release = await slots.acquire(1, signal);
      } catch (err) {
        fail(err);
        break;
      }
      if (failure) {
        release();
        break;
      }
      let next: IteratorResult<T>;
      try {
        signal?.throwIfAborted();
        next = await iterator.next();
      } catch (err) {
        release();
        fail(err);
        break;
      }
      if (next.done) {
        release();
        exhausted = true;
        break;
      }
      const task = Promise.resolve()
        .then(() => work(next.value))
        .catch(fail)
        .finally(release);
      running.add(task);
      void task.finally(() => running.delete(task));
    }
  } finally {
    if (!exhausted) await Promise.resolve(iterator.return?.()).catch(() => undefined);
    await Promise.allSettled([...running]);
  }
  if (failure) throw failure.error;
}
