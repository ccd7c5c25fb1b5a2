import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createRedis } from "@beskar-yum/queue";
import { ephemeralSigner } from "@beskar-yum/signing";
import { RepositoryStorage } from "@beskar-yum/storage";
import type { FastifyInstance } from "fastify";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inProcessApp } from "./test-support/in-process-app.js";

const token = "secret-token-for-the-index-errors-test";

describe("an index that cannot be read is reported as what it is", () => {
  let app: FastifyInstance;
  let dir: string;
  let redis: Redis;
  let storage: RepositoryStorage;
  const prefix = `bytest-indexerr-${randomBytes(4).toString("hex")}`;
  const corrupt = "artifacts/yum/corrupt";

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "byindexerr-"));
    redis = createRedis(process.env.BESKARYUM_TEST_REDIS_URL ?? "redis://127.0.0.1:6379", "indexerr-test");
    const setup = new RepositoryStorage(dir);
    for (const name of [corrupt, "artifacts/yum/fine"])
      (await setup.createIndex(name)).createRepository({ mirror: false, mirror_urls: [], gpg_key: "" }, 1);
    setup.close();
    const path = setup.paths(corrupt).index;
    rmSync(`${path}-wal`, { force: true });
    rmSync(`${path}-shm`, { force: true });
    writeFileSync(path, "overwritten: not an SQLite database any more ".repeat(200));
    storage = new RepositoryStorage(dir);
    app = await inProcessApp({ storage, redis, prefix, adminToken: token, signer: await ephemeralSigner() });
  });
  afterAll(async () => {
    await app.close();
    storage.close();
    redis.disconnect();
    rmSync(dir, { recursive: true, force: true });
  });

  const get = (path: string, query = "") =>
    app.inject({
      method: "GET",
      url: `/artifacts/yum/api/v1${path}${query}`,
      headers: { authorization: `Bearer ${token}` },
    });

  it("a corrupt index: 500 STORAGE_CORRUPT naming it, not 404", async () => {
    const res = await get("/repository", `?repository=${corrupt}`);
    expect(res.statusCode).toBe(500);
    expect(res.json().error).toMatchObject({ code: "Internal", reason: "STORAGE_CORRUPT" });
    expect(res.json().error.message).toContain(storage.paths(corrupt).index);
    expect((await get("/repository", "?repository=artifacts/yum/absent")).statusCode).toBe(404);
  });

  it("repository:list lists the others, and the broken one with what is wrong", async () => {
    const res = await get("/repository:list");
    expect(res.statusCode).toBe(200);
    const [broken, fine] = res.json().repositories;
    expect(broken).toMatchObject({ repository: corrupt });
    expect(broken.error).toContain("is corrupt");
    expect(fine).toEqual({ repository: "artifacts/yum/fine", mirror: false, packages: 0, syncing: false });
  });
});
