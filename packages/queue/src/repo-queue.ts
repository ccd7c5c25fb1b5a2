import { Queue } from "bullmq";
import type { Redis } from "ioredis";

/** The queue of "this repository has work" triggers. The work itself lives in the repository's index. */
export const repoEventsQueueName = "repo-events";

export interface RepoJobData {
  repository: string;
}

/**
 * Enqueues processing triggers. A trigger carries no event: losing one (a Redis flush) loses nothing,
 * because workers reconcile pending events from storage at startup and periodically.
 */
export class RepoTrigger {
  readonly queue: Queue<RepoJobData>;

  constructor(connection: Redis, prefix: string) {
    this.queue = new Queue<RepoJobData>(repoEventsQueueName, {
      connection,
      prefix,
      defaultJobOptions: {
        removeOnComplete: true,
        removeOnFail: 1000,
        attempts: 5,
        backoff: { type: "exponential", delay: 500 },
      },
    });
  }

  async trigger(repository: string): Promise<void> {
    await this.queue.add("process", { repository });
  }

  async close(): Promise<void> {
    await this.queue.close();
  }
}
