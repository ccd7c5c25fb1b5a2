import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createRedis, RepoTrigger, SyncQueue, syncQueueName } from "@beskar-yum/queue";
import { ephemeralSigner } from "@beskar-yum/signing";
import { RepositoryStorage } from "@beskar-yum/storage";
import Database from "better-sqlite3";
import { Worker } from "bullmq";
import type { Redis } from "ioredis";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { reconcile } from "./reconciler.js";

const redisUrl = process.env.BESKARYUM_TEST_REDIS_URL || "redis://127.0.0.1:6379";
const logger = pino({ level: "silent" });

describe("reconcile, for a repository marked syncing", () => {
  const prefix = `bytest-reconcile-${Math.random().toString(16).slice(2, 10)}`;
  const dir = mkdtempSync(join(tmpdir(), "beskar-yum-reconcile-"));
  const storage = new RepositoryStorage(dir);
  let redis: Redis;
  let syncs: SyncQueue;
  let trigger: RepoTrigger;
  beforeAll(() => {
    redis = createRedis(redisUrl, "reconcile-test");
    syncs = new SyncQueue(redis, prefix);
    trigger = new RepoTrigger(redis, prefix);
  });
  afterAll(async () => {
    await syncs.close();
    await trigger.close();
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
    storage.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const mirror = async (repository: string, startTime: number) => {
    const index = await storage.createIndex(repository);
    await index.createRepository({ mirror: true, mirror_urls: ["http://127.0.0.1:9/"], gpg_key: "" }, 1);
    expect(await index.beginSync(startTime)).toBe(true);
    return index;
  };
  const signer = ephemeralSigner();
  const run = async () => reconcile(storage, trigger, syncs, { logger, signer: await signer });

  it("ends the sync when its job failed and nobody handled the failure, and frees the job id", async () => {
    const repository = "artifacts/yum/r-failed";
    const index = await mirror(repository, 1000);
    await syncs.enqueue({ repository, startTime: 1000 });
    // Another process fails the job and dies before ending the sync (or no worker of ours saw it).
    const other = new Worker(
      syncQueueName,
      async () => {
        throw new Error("job stalled more than allowable limit");
      },
      { connection: createRedis(redisUrl, "reconcile-test-worker"), prefix },
    );
    await new Promise((resolve) => other.once("failed", resolve));
    await other.close();
    expect(await syncs.status({ repository, startTime: 1000 })).toEqual({
      state: "failed",
      reason: "job stalled more than allowable limit",
    });

    await run();
    const state = await index.getSyncState();
    expect(state.syncing).toBe(false);
    expect(state.syncError).toMatch(
      /^sync interrupted: its worker stopped 3 times before the sync could finish/,
    );
    expect((await index.listLogs()).at(-1)?.message).toBe(`sync failed: ${state.syncError}`);
    expect(await syncs.status({ repository, startTime: 1000 })).toEqual({ state: "missing" });

    // The same id can be queued again (a new sync started in the same second).
    expect(await index.beginSync(1000)).toBe(true);
    await syncs.enqueue({ repository, startTime: 1000 });
    expect(await syncs.status({ repository, startTime: 1000 })).toEqual({ state: "queued" });
    await run(); // queued: left alone
    expect((await index.getSyncState()).syncing).toBe(true);
  });

  it("queues a lost job again, past a repository whose stored state is hostile", async () => {
    const hostile = "artifacts/yum/a-hostile";
    await mirror(hostile, 2000);
    storage.close(); // the cached handle would not see the change below
    const db = new Database(storage.paths(hostile).index);
    db.prepare("UPDATE repository SET properties = '{not json' WHERE id = 1").run();
    db.close();
    const repository = "artifacts/yum/b-lost";
    const index = await mirror(repository, 3000);

    await run();
    expect(await syncs.status({ repository, startTime: 3000 })).toEqual({ state: "queued" });
    expect((await index.getSyncState()).syncing).toBe(true);
  });
});
