import { RepoLock, RepoTrigger, SyncQueue } from "@beskar-yum/queue";
import { RepositoryService } from "@beskar-yum/repository";
import type { RepomdSigner } from "@beskar-yum/signing";
import type { RepositoryStorage } from "@beskar-yum/storage";
import type { FastifyInstance } from "fastify";
import type { Redis } from "ioredis";
import { buildApp } from "../app.js";
import { ApiMetrics } from "../metrics.js";

/**
 * The API as `main` assembles it, in this process, over `storage` and real Redis queues under
 * `prefix` of the test's own. No worker consumes them: what a test sees is the API's part alone.
 */
export async function inProcessApp(options: {
  storage: RepositoryStorage;
  redis: Redis;
  prefix: string;
  adminToken: string;
  /** The server's key (`testSigner()` gives one). */
  signer: RepomdSigner;
}): Promise<FastifyInstance> {
  const { storage, redis, prefix, adminToken, signer } = options;
  const service = new RepositoryService({
    storage,
    trigger: new RepoTrigger(redis, prefix),
    syncs: new SyncQueue(redis, prefix),
    lock: new RepoLock(redis, prefix),
    maxUploadBytes: 400_000,
    waitTimeoutMs: 1000,
    graceSeconds: 300,
    signer,
  });
  const app = buildApp({
    service,
    storage,
    redis,
    adminToken,
    metrics: new ApiMetrics(),
    signer,
    waitTimeoutMs: 1000,
    version: "test",
  });
  await app.ready();
  return app;
}
