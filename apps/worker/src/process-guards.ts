import type { Logger } from "pino";
import type { JobGuard } from "./job-guard.js";

export interface ProcessGuardOptions {
  logger: Logger;
  guard: JobGuard;
  /** How the process ends when its state can no longer be trusted (process.exit in production). */
  exit(code: number): void;
}

/**
 * The worker's policy for errors nobody caught, chosen so that one bad job never takes the others
 * down, while a process whose state is in doubt is replaced rather than trusted:
 *
 * - An exception thrown from a callback that belongs to a job (a socket, timer or stream it
 *   started) fails that job only (see JobGuard): what it left half-done is that job's own objects,
 *   which its aborted signal discards, and its storage writes are transactional and fenced. The
 *   process keeps serving. Should the job not wind down (it would keep its repository lock
 *   renewed), JobGuard's onStuck exits instead.
 * - An exception thrown outside any job (Redis client, BullMQ, our timers) may have left shared
 *   state half-updated, which Node documents as unsafe to resume: log it with its stack and exit
 *   1. The supervisor (`npm start`, systemd, Kubernetes) restarts the worker; BullMQ hands the
 *   running jobs to a live worker when their locks expire and the reconciler re-derives the rest
 *   from storage, so nothing is lost.
 * - An unhandled promise rejection is logged with its stack and the process goes on: a rejection
 *   unwinds nothing halfway (unlike a throw out of a synchronous callback), and whoever awaited
 *   the work got its own outcome; an unobserved rejection only means a result nobody read.
 */
export function installProcessGuards(options: ProcessGuardOptions): void {
  const { logger, guard } = options;
  process.on("uncaughtException", (err, origin) => {
    const claimed = guard.claim(err);
    if (claimed?.ended) {
      // Thrown by something the job left behind (a socket closing late): nothing runs to fail.
      logger.error({ err, job: claimed.label }, "an exception escaped a finished job; the worker goes on");
      return;
    }
    if (claimed) {
      logger.error(
        { err, job: claimed.label },
        "an exception escaped a job: that job fails, the worker goes on",
      );
      return;
    }
    logger.fatal({ err, origin }, "uncaught exception outside any job: exiting to be restarted");
    options.exit(1);
  });
  process.on("unhandledRejection", (reason) => {
    logger.error({ err: reason }, "unhandled promise rejection (logged; the worker goes on)");
  });
}
