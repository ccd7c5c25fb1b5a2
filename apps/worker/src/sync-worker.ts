import type { Config } from "@beskar-yum/config";
import {
  createRedis,
  parseSyncJobData,
  type SyncJobData,
  type SyncQueue,
  syncMaxResumes,
  syncQueueName,
} from "@beskar-yum/queue";
import { assertRepositoryName } from "@beskar-yum/repository";
import { Worker } from "bullmq";
import { endFailedSync } from "./end-failed-sync.js";
import type { JobGuard } from "./job-guard.js";
import { processSync, type SyncProcessorOptions } from "./sync-processor.js";

export interface SyncWorkerOptions {
  config: Config;
  guard: JobGuard;
  processor: SyncProcessorOptions;
  syncs: Pick<SyncQueue, "forget">;
  /** Called after a sync job that may have published: the registry replica pushes it. */
  afterSync(repository: string): Promise<void>;
}

/**
 * The BullMQ worker of the `repo-sync` queue. A sync whose worker dies resumes on another one
 * (BullMQ's stalled-job recovery) up to `syncMaxResumes` times; a job that fails for any reason
 * (stalled too often, crashed, bad payload) ends its sync in storage with a `sync_error` here, and,
 * should this process die before doing so, in the reconciler.
 */
export function startSyncWorker(options: SyncWorkerOptions): Worker<SyncJobData> {
  const { config, guard, processor } = options;
  const { logger, storage } = processor;
  const worker = new Worker<SyncJobData>(
    syncQueueName,
    (job) =>
      guard.run(`sync job ${job.id}`, async (signal) => {
        checkedSync(job.data);
        await processSync(job, processor, signal);
        await options.afterSync(job.data.repository);
      }),
    {
      connection: createRedis(config.redis.url, "beskar-yum-sync-blocking"),
      prefix: config.redis.prefix,
      concurrency: config.worker.concurrency,
      // A sync holds its job for minutes: a crashed worker's job must come back as fast as its lock does.
      lockDuration: config.worker.lockTtlMs,
      stalledInterval: config.worker.lockTtlMs,
      maxStalledCount: syncMaxResumes,
    },
  );
  worker.on("failed", (job, err) => {
    logger.error({ err, jobId: job?.id, data: job?.data }, "sync job failed");
    let sync: SyncJobData;
    try {
      sync = checkedSync(job?.data);
    } catch {
      return; // nothing in storage to end
    }
    endFailedSync(storage, sync, err.message, logger).then(
      // Settled: the record is no longer needed, and the id is free for the same sync again.
      () =>
        options.syncs
          .forget(sync)
          .catch((e) => logger.warn({ err: e }, "could not remove a failed sync job")),
      // The job record stays: the reconciler ends the sync from it and storage later.
      (e) => logger.error({ err: e, repository: sync.repository }, "could not end the failed sync"),
    );
  });
  worker.on("error", (err) => logger.error({ err }, "sync worker error"));
  return worker;
}

/** A sync job's payload, checked: JOB_INVALID or INVALID_REPOSITORY_NAME for one that is not ours. */
function checkedSync(data: unknown): SyncJobData {
  const sync = parseSyncJobData(data);
  assertRepositoryName(sync.repository);
  return sync;
}
