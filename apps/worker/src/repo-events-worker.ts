import type { Config } from "@beskar-yum/config";
import { createRedis, parseRepoJobData, type RepoJobData, repoEventsQueueName } from "@beskar-yum/queue";
import { assertRepositoryName, type ProcessorOptions, processRepository } from "@beskar-yum/repository";
import { Worker } from "bullmq";
import type { Logger } from "pino";
import type { JobGuard } from "./job-guard.js";

/**
 * The BullMQ worker of the `repo-events` queue: applies a repository's pending events, publishes
 * and pushes the registry replica. A failed job is logged and retried by BullMQ (the queue's
 * attempts); after the last attempt the reconciler queues the repository again from storage.
 */
export function startRepoEventsWorker(
  config: Config,
  guard: JobGuard,
  processor: ProcessorOptions,
  logger: Logger,
): Worker<RepoJobData> {
  const worker = new Worker<RepoJobData>(
    repoEventsQueueName,
    (job) =>
      guard.run(`repository job ${job.id}`, async () => {
        const { repository } = parseRepoJobData(job.data);
        await processRepository(assertRepositoryName(repository), processor);
      }),
    {
      connection: createRedis(config.redis.url, "beskar-yum-worker-blocking"),
      prefix: config.redis.prefix,
      concurrency: config.worker.concurrency,
    },
  );
  worker.on("failed", (job, err) =>
    logger.error(
      { err, jobId: job?.id, data: job?.data, attempt: job?.attemptsMade },
      "repository job failed",
    ),
  );
  worker.on("error", (err) => logger.error({ err }, "worker error"));
  return worker;
}
