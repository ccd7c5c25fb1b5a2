/** Runs `work` over `items`, `size` at a time; the first failure stops handing out new items. */
export async function pool<T>(
  items: T[],
  size: number,
  signal: AbortSignal,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  let failed = false;
  await Promise.all(
    Array.from({ length: Math.min(size, items.length) }, async () => {
      while (!failed && next < items.length) {
        signal.throwIfAborted();
        const item = items[next++]!;
        try {
          await work(item);
        } catch (err) {
          failed = true;
          throw err;
        }
      }
    }),
  );
}
