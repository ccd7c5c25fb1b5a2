import {
  type Config,
  indexStorageOptions,
  installCpuProfiler,
  redactingLogOptions,
  runService,
  type StopService,
  withLogFormat,
} from "@beskar-yum/config";
import { RegistryClient, registryClientOptions } from "@beskar-yum/oci";
import { createRedis, RepoLock, RepoTrigger, SyncQueue } from "@beskar-yum/queue";
import { FrontTree, recheckPendingWork } from "@beskar-yum/repository";
import { loadSigningKey } from "@beskar-yum/signing";
import { RegistryBlobs, RepositoryStorage } from "@beskar-yum/storage";
import { pino } from "pino";
import { catchUpFrontTree } from "./front-tree-catch-up.js";
import { JobGuard } from "./job-guard.js";
import { installProcessGuards } from "./process-guards.js";
import { reconcile } from "./reconciler.js";
import { startRepoEventsWorker } from "./repo-events-worker.js";
import { startSyncWorker } from "./sync-worker.js";

async function main(config: Config): Promise<StopService> {
  const logger = pino(
    withLogFormat(
      {
        level: config.log.level,
        base: { service: "beskar-yum-worker", pid: process.pid },
        ...redactingLogOptions,
      },
      config.log.format,
    ),
  );
  // Before anything can throw asynchronously: see process-guards.ts for the policy.
  const guard = new JobGuard({
    // A crashed job whose work has not wound down within a lock lifetime still holds its lock.
    stopGraceMs: config.worker.lockTtlMs,
    onStuck: (job) => {
      logger.fatal({ job }, "a crashed job did not stop: exiting to be restarted");
      process.exit(1);
    },
  });
  installProcessGuards({ logger, guard, exit: (code) => process.exit(code) });
  if (config.profiling) {
    installCpuProfiler({
      datadir: config.datadir,
      name: "beskar-yum-worker",
      log: (msg, fields) => logger.info(fields ?? {}, msg),
    });
  }

  // Before anything is published: a key that cannot be read is a configuration error (exit 2).
  const { signer } = await loadSigningKey({
    ...config.signing,
    datadir: config.datadir,
    log: (fields, message) => logger.info(fields, message),
  });
  const redis = createRedis(config.redis.url, "beskar-yum-worker");
  // The OCI registry replica (SPEC §7): every repository pushed there in Beskar's layout.
  const registry = config.registry ? new RegistryClient(registryClientOptions(config.registry)) : undefined;
  const storage = await RepositoryStorage.open(config.storage.filesystem.directory, config.storage.prefix, {
    ...indexStorageOptions(config),
    // storage.driver: registry: the registry is where blobs live, this datadir a cache of it.
    ...(config.storage.driver === "registry" && registry ? { registry: new RegistryBlobs(registry) } : {}),
    onPostgresError: (err) => logger.warn({ err: err.message }, "PostgreSQL index connection lost"),
  });
  // Before anything reads storage: repositories of the previous layout move into this one.
  await storage.prepare(logger);
  const trigger = new RepoTrigger(redis, config.redis.prefix);
  // A sync that held the lock triggers, once it lets go, the work that arrived meanwhile.
  const lock = new RepoLock(redis, config.redis.prefix, {
    ttlMs: config.worker.lockTtlMs,
    afterRelease: recheckPendingWork(storage, trigger, logger),
  });
  const syncs = new SyncQueue(redis, config.redis.prefix);
  // `http.front_tree`: what a front nginx sends without asking the API, kept in step with each commit.
  const frontTree =
    config.serving.frontTree !== undefined
      ? new FrontTree(config.serving.frontTree, (message) => logger.warn(message))
      : undefined;
  const front = frontTree ? { frontTree } : {};

  const worker = startRepoEventsWorker(
    config,
    guard,
    {
      storage,
      lock,
      debounceMs: config.publish.debounceMs,
      maxDelayMs: config.publish.maxDelayMs,
      graceSeconds: config.publish.graceSeconds,
      signer,
      log: logger,
      ...(registry ? { registry } : {}),
      ...front,
    },
    logger,
  );
  const syncWorker = startSyncWorker({
    config,
    guard,
    processor: {
      storage,
      lock,
      graceSeconds: config.publish.graceSeconds,
      signer,
      concurrency: config.sync.concurrency,
      timeoutMs: config.sync.timeoutMs,
      fsyncTimeoutMs: config.fsyncTimeoutMs,
      proxy: config.proxy,
      logger,
      syncs,
      ...front,
    },
    syncs,
    // A sync that published bumped the registry replica's generation: push it now, not at the
    // reconciler's next scan (a round with nothing to push costs one index read).
    afterSync: async (repository) => {
      if (registry) await trigger.trigger(repository);
    },
  });
  await worker.waitUntilReady();
  await syncWorker.waitUntilReady();

  const runReconcile = async () => {
    try {
      const triggered = await reconcile(storage, trigger, syncs, {
        registry: registry !== undefined,
        signer,
        logger,
      });
      if (triggered.length > 0)
        logger.info({ repositories: triggered }, "reconciled pending work from storage");
    } catch (err) {
      logger.error({ err }, "reconcile failed");
    }
  };
  if (frontTree) await catchUpFrontTree(storage, lock, frontTree, logger);
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
