import { getNextMillis } from "bullmq";

/**
 * Checks a `sync_schedule` cron pattern the way the job scheduler will read it (BullMQ's cron
 * parser), without touching Redis: a request is validated before it changes anything.
 * @throws Error from the cron parser when the pattern is invalid.
 */
export function assertCronPattern(pattern: string): void {
  getNextMillis(Date.now(), { pattern });
}
