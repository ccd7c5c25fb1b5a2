import type { Logger } from "pino";

/**
 * The API's policy for errors nobody caught. Requests have their own error handling (fastify maps
 * every thrown error to a response), so what reaches here comes from background work: registry
 * notifications, the plugin replica, gossip.
 *
 * - An unhandled promise rejection is logged with its stack and the process goes on: a rejection
 *   unwinds nothing halfway, and whoever awaited the work got its own outcome. (Node's default
 *   would exit, taking every client's download with it.)
 * - An uncaught exception may have left shared state half-updated, which Node documents as unsafe
 *   to resume: it is logged with its stack and the process exits 1 for its supervisor (`npm start`,
 *   systemd, Kubernetes) to restart it. Nothing is lost: repository state is in storage, and the
 *   background work is re-derived from it at start.
 */
export function installProcessGuards(logger: Logger, exit: (code: number) => void = process.exit): void {
  process.on("uncaughtException", (err, origin) => {
    logger.fatal({ err, origin }, "uncaught exception: exiting to be restarted");
    exit(1);
  });
  process.on("unhandledRejection", (reason) => {
    logger.error({ err: reason }, "unhandled promise rejection (logged; the api goes on)");
  });
}
