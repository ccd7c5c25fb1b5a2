import { Queue } from "bullmq";
import type { Redis } from "ioredis";

export const syncQueueName = "repo-sync";

export interface SyncJobData {
  repository: string;
  /** Mirror URLs for this sync only (`sync:url`); the repository's own when absent. */
  urls?: string[];
  /** The sync's start time: with the repository it names the job, so re-enqueueing the same sync is a no-op. */
  startTime: number;
}

/** Sync requests. Like triggers, they can be re-derived from storage (a repository marked syncing). */
export class SyncQueue {
  readonly queue: Queue<SyncJobData>;

  constructor(connection: Redis, prefix: string) {
    this.queue = new Queue<SyncJobData>(syncQueueName, {
      connection,
      prefix,
      defaultJobOptions: { removeOnComplete: true, removeOnFail: 100, attempts: 1 },
    });
  }

  static jobId(data: Pick<SyncJobData, "repository" | "startTime">): string {
    return `sync-${Buffer.from(data.repository).toString("hex")}-${data.startTime}`;
  }

  async enqueue(data: SyncJobData): Promise<void> {
    await this.queue.add("sync", data, { jobId: SyncQueue.jobId(data) });
  }

  /** Runs `repository`'s sync on `pattern` (cron), or stops doing so when `pattern` is undefined. */
  async schedule(repository: string, pattern: string | undefined): Promise<void> {
    const id = `schedule-${Buffer.from(repository).toString("hex")}`;
    if (pattern === undefined) await this.queue.removeJobScheduler(id);
    else
      await this.queue.upsertJobScheduler(
        id,
        { pattern },
        { name: "scheduled-sync", data: { repository, startTime: 0 } },
      );
  }

  async close(): Promise<void> {
    await this.queue.close();
  }
}
