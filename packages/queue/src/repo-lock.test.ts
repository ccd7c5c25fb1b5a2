import { randomBytes } from "node:crypto";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRedis } from "./redis-connection.js";
import { RepoLock } from "./repo-lock.js";

const redisUrl = process.env.BESKARYUM_TEST_REDIS_URL ?? "redis://127.0.0.1:6379";
const prefix = `bytest-lock-${randomBytes(4).toString("hex")}`;

describe("RepoLock", () => {
  let redis: Redis;
  beforeAll(() => {
    redis = createRedis(redisUrl, "repo-lock-test");
  });
  afterAll(async () => {
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  });

  it("admits one holder at a time, with growing fencing tokens", async () => {
    const lock = new RepoLock(redis, prefix);
    const first = await lock.tryAcquire("artifacts/yum/a");
    expect(first).toBeDefined();
    expect(await lock.tryAcquire("artifacts/yum/a")).toBeUndefined();
    expect(await lock.tryAcquire("artifacts/yum/b")).toBeDefined();
    await first!.release();
    const second = await lock.tryAcquire("artifacts/yum/a");
    expect(second!.fence).toBeGreaterThan(first!.fence);
    await second!.release();
  });

  it("keeps growing fencing tokens after the keys are flushed", async () => {
    const lock = new RepoLock(redis, prefix);
    const before = await lock.acquire("artifacts/yum/c", { timeoutMs: 1000 });
    await redis.del(`${prefix}:lock:artifacts/yum/c`);
    const after = await lock.acquire("artifacts/yum/c", { timeoutMs: 1000 });
    expect(after.fence).toBeGreaterThan(before.fence);
    await after.release();
  });

  it("does not release a lock it no longer owns, and aborts the loser's signal", async () => {
    const lock = new RepoLock(redis, prefix, { ttlMs: 150 });
    const stale = await lock.acquire("artifacts/yum/d", { timeoutMs: 1000 });
    // Simulate expiry while the holder stalls: another owner takes the key.
    await redis.set(`${prefix}:lock:artifacts/yum/d`, "someone-else");
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(stale.signal.aborted).toBe(true);
    await stale.release();
    expect(await redis.get(`${prefix}:lock:artifacts/yum/d`)).toBe("someone-else");
  });

  it("times out waiting for a busy lock with a clear error", async () => {
    const lock = new RepoLock(redis, prefix);
    const held = await lock.acquire("artifacts/yum/e", { timeoutMs: 1000 });
    await expect(lock.acquire("artifacts/yum/e", { timeoutMs: 100 })).rejects.toThrow(/is busy/);
    await held.release();
  });
});
