import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";

/** The Redis the tests use: `BESKARYUM_TEST_REDIS_URL`, default `redis://127.0.0.1:6379` (checked by check-tools). */
export function redisUrl(): string {
  return process.env.BESKARYUM_TEST_REDIS_URL || "redis://127.0.0.1:6379";
}

/** A key prefix no other test shares: `bytest-<name>-<random>`, for `BESKARYUM_REDIS_PREFIX`. */
export function uniquePrefix(testName: string): string {
  const slug = testName
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-|-$/g, "")
    .slice(0, 40);
  return `bytest-${slug || "test"}-${randomBytes(4).toString("hex")}`;
}

/** A client for `redisUrl()`; the caller `quit()`s it. */
export function connectRedis(url = redisUrl()): Redis {
  return new Redis(url, { maxRetriesPerRequest: 1, lazyConnect: false });
}

/**
 * Deletes every key `<prefix>:*` (SCAN MATCH + UNLINK) and returns how many went. Only prefixes made
 * by `uniquePrefix` (`bytest-...`) are accepted, so a test can never empty a real deployment's keys.
 */
export async function deletePrefix(prefix: string, url = redisUrl()): Promise<number> {
  if (!/^bytest-[a-z0-9-]+$/.test(prefix))
    throw new Error(`deletePrefix: refusing prefix ${JSON.stringify(prefix)}`);
  const redis = connectRedis(url);
  let deleted = 0;
  try {
    let cursor = "0";
    do {
      const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}:*`, "COUNT", 1000);
      cursor = next;
      if (keys.length > 0) deleted += await redis.unlink(...keys);
    } while (cursor !== "0");
  } finally {
    await redis.quit();
  }
  return deleted;
}
