/**
 * Runs `work` over `items`, `size` at a time; the first failure stops handing out new items. An
 * async iterable (a plan still being read) is shared by the workers: each asks it for the next
 * item, and it is closed (`return`) when the pool stops early, so that what it reads is released.
 */
export async function pool<T>(
  items: Iterable<T> | AsyncIterable<T>,
  size: number,
  signal: AbortSignal,
  work: (item: T) => Promise<void>,
): Promise<void> {
  const iterator =
    Symbol.asyncIterator in items
      ? (items as AsyncIterable<T>)[Symbol.asyncIterator]()
      : (items as Iterable<T>)[Symbol.iterator]();
  let failed = false;
  let done = false;
  try {
    await Promise.all(
      Array.from({ length: size }, async () => {
        while (!failed && !done) {
          signal.throwIfAborted();
          let next: IteratorResult<T>;
          try {
            next = await iterator.next();
          } catch (err) {
            failed = true;
            throw err;
          }
          if (next.done) {
            done = true;
            return;
          }
          try {
            await work(next.value);
          } catch (err) {
            failed = true;
            throw err;
          }
        }
      }),
    );
  } finally {
    if (!done) await Promise.resolve(iterator.return?.()).catch(() => undefined);
  }
}
