export interface EventuallyOptions {
  /** Give up after this long. Default 30 s. */
  timeoutMs?: number;
  /** Time between two looks. Default 250 ms. */
  intervalMs?: number;
  /** Added to the timeout error (e.g. the output of the process under test). */
  context?: () => string;
}

/**
 * Polls `probe` until it returns a value (not undefined) and returns it. A probe that throws counts
 * as "not yet"; after `timeoutMs` the error names `what`, the probe's last error and the context.
 */
export async function eventually<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  options: EventuallyOptions = {},
): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      const context = options.context ? `\n${options.context()}` : "";
      throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ""}${context}`);
    }
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 250));
  }
}
