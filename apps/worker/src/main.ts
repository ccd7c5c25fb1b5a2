import { type Config, runService, type StopService } from "@beskar-yum/config";
import { RegistryClient, registryClientOptions } from "@beskar-yum/oci";
import {
  createRedis,
  type RepoJobData,
  RepoLock,
  RepoTrigger,
  repoEventsQueueName,
  type SyncJobData,
  SyncQueue,
  syncQueueName,
} from "@beskar-yum/queue";
import { processRepository } from "@beskar-yum/repository";
import { RepositoryStorage } from "@beskar-yum/storage";
import { Worker } from "bullmq";
import { pino } from "pino";
import { reconcile } from "./reconciler.js";
import { processSync } from "./sync-processor.js";

async function main(config: Config): Promise<StopService> {
  const logger = pino({ level: config.log.level, base: { service: "beskar-yum-worker", pid: process.pid } });
  const redis = createRedis(config.redis.url, "beskar-yum-worker");
  const storage = new RepositoryStorage(config.storage.filesystem.directory, config.storage.prefix);
  const lock = new RepoLock(redis, config.redis.prefix, { ttlMs: config.worker.lockTtlMs });
  const trigger = new RepoTrigger(redis, config.redis.prefix);
  const syncs = new SyncQueue(redis, config.redis.prefix);
  // The OCI registry replica (SPEC §7): every repository pushed there in Beskar's layout.
  const registry = config.registry ? new RegistryClient(registryClientOptions(config.registry)) : undefined;
  const processorOptions = {
    storage,
    lock,
    debounceMs: config.publish.debounceMs,
    maxDelayMs: config.publish.maxDelayMs,
    graceSeconds: config.publish.graceSeconds,
    log: logger,
    ...(registry ? { registry } : {}),
  };

  const worker = new Worker<RepoJobData>(
    repoEventsQueueName,
    async (job) => processRepository(job.data.repository, processorOptions),
    {
      connection: createRedis(config.redis.url, "beskar-yum-worker-blocking"),
      prefix: config.redis.prefix,
      concurrency: config.worker.concurrency,
    },
  );
  const syncWorker = new Worker<SyncJobData>(
    syncQueueName,
    async (job) => {
      await processSync(job, {
        storage,
        lock,
        graceSeconds: config.publish.graceSeconds,
        concurrency: config.sync.concurrency,
        timeoutMs: config.sync.timeoutMs,
        logger,
      });
      // A sync that published bumped the registry replica's generation: push it now, not at the
      // reconciler's next scan (a round with nothing to push costs one index read).
      if (registry) await trigger.trigger(job.data.repository);
    },
    {
      connection: createRedis(config.redis.url, "beskar-yum-sync-blocking"),
      prefix: config.redis.prefix,
      concurrency: config.worker.concurrency,
      // A sync holds its job for minutes: a crashed worker's job must come back as fast as its lock does.
      lockDuration: config.worker.lockTtlMs,
      stalledInterval: config.worker.lockTtlMs,
    },
  );
  syncWorker.on("error", (err) => logger.error({ err }, "sync worker error"));
  worker.on("failed", (job, err) =>
    logger.error(
      { err, repository: job?.data.repository, attempt: job?.attemptsMade },
      "repository job failed",
    ),
  );
  worker.on("error", (err) => logger.error({ err }, "worker error"));
  await worker.waitUntilReady();
  await syncWorker.waitUntilReady();

  const runReconcile = async () => {
    try {
      const triggered = await reconcile(storage, trigger, syncs, { registry: registry !== undefined });
      if (triggered.length > 0)
        logger.info({ repositories: triggered }, "reconciled pending work from storage");
    } catch (err) {
      logger.error({ err }, "reconcile failed");
    }
  };
  await runReconcile();
  const timer = setInterval(runReconcile, config.worker.reconcileIntervalMs);
  logger.info(
    {
      concurrency: config.worker.concurrency,
      redisPrefix: config.redis.prefix,
      registry: config.registry?.url,
    },
    "worker ready",
  );

  return async (signal) => {
    logger.info({ signal }, "worker stopping");
    clearInterval(timer);
    await worker.close();
    await syncWorker.close();
    await syncs.close();
    await trigger.close();
    registry?.close();
    storage.close();
    redis.disconnect();
  };
}

runService("beskar-yum worker", main);
