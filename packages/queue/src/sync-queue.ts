import { Queue } from "bullmq";
import type { Redis } from "ioredis";

export const syncQueueName = "repo-sync";

export interface SyncJobData {
  repository: string;
  /** Mirror URLs for this sync only (`sync:url`); the repository's own when absent. */
  urls?: string[];
  /** Accept an upstream older than what is served (`sync` with `force`, our extension). */
  force?: boolean;
  /** The sync's start time: with the repository it names the job, so re-enqueueing the same sync is a no-op. */
  startTime: number;
}

/**
 * What Redis knows of one sync's job: still to run or running (`queued`), failed and kept for the
 * record (`failed`, with BullMQ's reason), or nothing (`missing`: completed and removed, or lost).
 */
export type SyncJobStatus = { state: "queued" | "missing" } | { state: "failed"; reason: string };

/**
 * How many times a sync's worker may die (SIGKILL, OOM, a lost host) with the sync resuming each
 * time (BullMQ's stalled-job recovery; the resumed run reuses every blob already stored). One more
 * and BullMQ fails the job ("job stalled more than allowable limit"), which ends the sync with a
 * `sync_error`: a sync that keeps killing its workers must not loop forever.
 */
export const syncMaxResumes = 2;

/** Sync requests. Like triggers, they can be re-derived from storage (a repository marked syncing). */
export class SyncQueue {
  readonly queue: Queue<SyncJobData>;

  constructor(connection: Redis, prefix: string) {
    this.queue = new Queue<SyncJobData>(syncQueueName, {
      connection,
      prefix,
      // Failed jobs are kept (bounded) as the record the reconciler reads a failure from; once the
      // failure has ended the sync in storage, `forget` removes the job (see `enqueue`).
      defaultJobOptions: { removeOnComplete: true, removeOnFail: 100, attempts: 1 },
    });
  }

  static jobId(data: Pick<SyncJobData, "repository" | "startTime">): string {
    return `sync-${Buffer.from(data.repository).toString("hex")}-${data.startTime}`;
  }

  /**
   * Queues the sync, unless its job is queued or running already (same job id). A failed job kept
   * under that id would turn BullMQ's add into a silent no-op, so it goes first: callers enqueue a
   * sync only once storage has settled any earlier failure of it (see the reconciler).
   */
  async enqueue(data: SyncJobData): Promise<void> {
    await this.forget(data);
    await this.queue.add("sync", data, { jobId: SyncQueue.jobId(data) });
  }

  /** The state of the sync's job in Redis. */
  async status(data: Pick<SyncJobData, "repository" | "startTime">): Promise<SyncJobStatus> {
    const job = await this.queue.getJob(SyncQueue.jobId(data));
    if (!job) return { state: "missing" };
    const state = await job.getState();
    if (state === "failed") return { state: "failed", reason: job.failedReason || "unknown failure" };
    if (state === "completed" || state === "unknown") return { state: "missing" };
    return { state: "queued" };
  }

  /** Removes the sync's job if it failed (a settled failure); a queued or running job stays. */
  async forget(data: Pick<SyncJobData, "repository" | "startTime">): Promise<void> {
    const job = await this.queue.getJob(SyncQueue.jobId(data));
    if (job && (await job.isFailed())) await job.remove();
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
