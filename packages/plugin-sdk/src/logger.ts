import { type GossipLogger, silentLogger } from "./memberlist/logger.js";

/** What the SDK logs through: pino's `(details, message)` methods fit (the gossip member uses the same). */
export type Logger = GossipLogger;

export { silentLogger };

/** A logger that adds `bindings` to the details of every line (pino's `child`, for any `Logger`). */
export function childLogger(logger: Logger, bindings: Record<string, unknown>): Logger {
  const wrap =
    (level: keyof Logger) =>
    (details: Record<string, unknown>, message: string): void =>
      logger[level]({ ...bindings, ...details }, message);
  return { debug: wrap("debug"), info: wrap("info"), warn: wrap("warn"), error: wrap("error") };
}

export function describeError(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
