import { randomBytes } from "node:crypto";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRedis } from "./redis-connection.js";
import { RepoLock } from "./repo-lock.js";

const redisUrl = process.env.BESKARYUM_TEST_REDIS_URL ?? "redis://127.0.0.1:6379";
const prefix = `bytest-lock-after-${randomBytes(4).toString("hex")}`;

describe("RepoLock afterRelease", () => {
  let redis: Redis;
  beforeAll(() => {
    redis = createRedis(redisUrl, "repo-lock-after-release-test");
  });
  afterAll(async () => {
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  });

  it("runs after the lock is free, unless the holder looks again itself", async () => {
    const seen: Array<{ repository: string; free: boolean }> = [];
    const lock: RepoLock = new RepoLock(redis, prefix, {
      afterRelease: async (repository) => {
        const probe = await lock.tryAcquire(repository);
        seen.push({ repository, free: probe !== undefined });
        await probe?.release({ recheck: false });
      },
    });
    const held = await lock.tryAcquire("artifacts/yum/a");
    await held!.release();
    expect(seen).toEqual([{ repository: "artifacts/yum/a", free: true }]);

    const again = await lock.tryAcquire("artifacts/yum/a");
    await again!.release({ recheck: false });
    expect(seen).toHaveLength(1);
  });
});
