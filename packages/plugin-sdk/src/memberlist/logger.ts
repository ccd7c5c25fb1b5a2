/** The logging a member does; pino's `(obj, msg)` methods fit. */
export interface GossipLogger {
  debug(details: Record<string, unknown>, message: string): void;
  info(details: Record<string, unknown>, message: string): void;
  warn(details: Record<string, unknown>, message: string): void;
  error(details: Record<string, unknown>, message: string): void;
}

const noop = () => {};

/** Discards everything (Beskar sets memberlist's LogOutput to io.Discard too). */
export const silentLogger: GossipLogger = { debug: noop, info: noop, warn: noop, error: noop };
