import { existsSync, readdirSync } from "node:fs";
import { request } from "node:http";
import { join } from "node:path";
import { SyncQueue } from "@beskar-yum/queue";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fetchPrimary } from "./harness/repodata-client.js";
import { type Stack, startStack } from "./harness/stack.js";
import { connectRedis } from "./support/redis.js";
import { manyFixtures } from "./support/rpm-fixtures.js";
import { cleanupTempDirs, makeTempDir } from "./support/tmp.js";

/** Every path under `dir` (files and folders), to show that a refused request created nothing. */
function tree(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, encoding: "utf8" }).sort();
}

/** A HEAD request (fetch cannot send a HEAD with a body; the query carries the fields). */
function head(url: string, token: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: "HEAD", headers: { authorization: `Bearer ${token}` } }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
    });
    req.on("error", reject);
    req.end();
  });
}

describe("refused and read-only requests change nothing", () => {
  let stack: Stack;
  let rpms: string[];
  let syncs: SyncQueue;
  const redis = connectRedis();
  const schedule = async (repository: string) =>
    (await syncs.queue.getJobScheduler(`schedule-${Buffer.from(repository).toString("hex")}`))?.pattern;

  beforeAll(async () => {
    stack = await startStack({ name: "side-effects" });
    syncs = new SyncQueue(redis, stack.prefix);
    rpms = await manyFixtures(makeTempDir("side-effects-rpms"), 2, { prefix: "sideeffects-" });
  });
  afterAll(async () => {
    await syncs?.close();
    redis.disconnect();
    await stack?.stop();
    await cleanupTempDirs();
  });

  it("a refused POST /repository (409) leaves the existing mirror's sync schedule as it was", async () => {
    const repository = "artifacts/yum/fx-scheduled";
    const properties = { mirror: true, mirror_urls: ["http://127.0.0.1:9/x/"], sync_schedule: "0 3 * * *" };
    expect((await stack.call("POST", "/repository", { repository, properties })).status).toBe(200);
    expect(await schedule(repository)).toBe("0 3 * * *");
    for (const again of [
      { ...properties, sync_schedule: "* * * * * *" },
      { mirror: true, mirror_urls: ["http://127.0.0.1:9/x/"] },
      {},
    ]) {
      const refused = await stack.call("POST", "/repository", { repository, properties: again });
      expect(refused.status, JSON.stringify(again)).toBe(409);
      expect(await schedule(repository), JSON.stringify(again)).toBe("0 3 * * *");
    }
    // Refused for a bad pattern: nothing changes either, on create or update.
    const bad = await stack.call("PUT", "/repository", {
      repository,
      properties: { sync_schedule: "61 * * * *" },
    });
    expect(bad.status).toBe(400);
    expect(await schedule(repository)).toBe("0 3 * * *");
    const fresh = "artifacts/yum/fx-bad-schedule";
    const refused = await stack.call("POST", "/repository", {
      repository: fresh,
      properties: { ...properties, sync_schedule: "61 * * * *" },
    });
    expect(refused.status).toBe(400);
    expect((await stack.call("GET", "/repository", { repository: fresh })).status).toBe(404);
    expect((await stack.call("GET", "/repository", { repository })).json.properties.sync_schedule).toBe(
      "0 3 * * *",
    );
  });

  it("HEAD on the admin API's GETs (sync, sync:url, ...) runs nothing", async () => {
    const repository = "artifacts/yum/fx-head";
    const properties = { mirror: true, mirror_urls: ["http://127.0.0.1:9/x/"] };
    expect((await stack.call("POST", "/repository", { repository, properties })).status).toBe(200);
    const query = new URLSearchParams({ repository, mirror_url: "http://127.0.0.1:9/y/" });
    for (const path of ["repository/sync", "repository/sync:url", "repository", "repository/sync:status"]) {
      const status = await head(`${stack.url}/artifacts/yum/api/v1/${path}?${query}`, stack.token);
      expect(status, path).toBe(404);
    }
    const status = (await stack.call("GET", "/repository/sync:status", { repository })).json.sync_status;
    expect(status).toMatchObject({ syncing: false, start_time: "", sync_error: "" });
    // No sync was started (the repository's creation may have logged its first, empty, publish).
    const logs = (await stack.call("GET", "/repository/logs", { repository })).json.logs;
    expect(logs.filter((l: { message: string }) => !l.message.startsWith("published revision "))).toEqual([]);
  });

  it("an upload refused with 400 does not create its repository", async () => {
    const repository = "artifacts/yum/fx-never-created";
    const before = tree(stack.dataDir);
    for (const body of ["not an rpm at all", ""]) {
      const response = await fetch(`${stack.url}/${repository}/repo/Packages/x-1-1.noarch.rpm`, {
        method: "PUT",
        headers: { authorization: `Bearer ${stack.token}` },
        body,
      });
      expect(response.status).toBe(400);
    }
    expect((await stack.call("GET", "/repository", { repository })).status).toBe(404);
    const list = await stack.call("GET", "/repository:list");
    expect(list.json.repositories.map((r: { repository: string }) => r.repository)).not.toContain(repository);
    // Nothing new on disk but the (empty) staging folder the upload streamed into.
    expect(tree(stack.dataDir).filter((p) => !before.includes(p) && !p.startsWith("staging"))).toEqual([]);
    expect(tree(join(stack.dataDir, "staging")).filter((p) => !p.endsWith("tmp"))).toEqual([]);
    // Accepted, the same upload creates it.
    expect((await stack.upload(repository, rpms[0]!, { wait: true })).status).toBe(201);
    expect((await stack.call("GET", "/repository", { repository })).status).toBe(200);
  });

  it("PUT /repository refuses to turn a hosted repository that holds packages into a mirror", async () => {
    const repository = "artifacts/yum/fx-hosted";
    expect((await stack.upload(repository, rpms[1]!, { wait: true })).status).toBe(201);
    const refused = await stack.call("PUT", "/repository", {
      repository,
      properties: { mirror: true, mirror_urls: ["http://127.0.0.1:9/x/"] },
    });
    expect(refused.status).toBe(400);
    expect(refused.json.error).toMatchObject({ code: "FailedPrecondition", reason: "REPO_NOT_EMPTY" });
    const view = await stack.call("GET", "/repository", { repository });
    expect(view.json.properties).toMatchObject({ mirror: false, mirror_urls: [] });
    expect((await fetchPrimary(stack.repoUrl(repository))).packages).toHaveLength(1);
    // An empty hosted repository may still become a mirror.
    const empty = "artifacts/yum/fx-empty";
    expect((await stack.call("POST", "/repository", { repository: empty, properties: {} })).status).toBe(200);
    const turned = await stack.call("PUT", "/repository", {
      repository: empty,
      properties: { mirror: true, mirror_urls: ["http://127.0.0.1:9/x/"] },
    });
    expect(turned.status, JSON.stringify(turned.json)).toBe(200);
  });

  it("refuses names that are too long with 400 before creating anything", async () => {
    const names = [
      `artifacts/yum/${"a".repeat(300)}`,
      `artifacts/yum/${"ab/".repeat(1666)}ab`, // 5,014 characters
      `artifacts/yum/${Array.from({ length: 250 }, () => "n").join("/")}`, // 250 nested segments
    ];
    const before = tree(stack.dataDir);
    for (const repository of names) {
      const created = await stack.call("POST", "/repository", { repository, properties: {} });
      expect(created.status, repository.slice(0, 40)).toBe(400);
      expect(created.json.error).toMatchObject({
        code: "InvalidArgument",
        reason: "INVALID_REPOSITORY_NAME",
      });
      expect(created.json.error.message).toMatch(/at most 246 allowed/);
      const upload = await fetch(`${stack.url}/${repository}/repo/Packages/x-1-1.noarch.rpm`, {
        method: "PUT",
        headers: { authorization: `Bearer ${stack.token}` },
        body: "whatever",
      });
      expect(upload.status).toBe(400);
      expect((await fetch(`${stack.url}/${repository}/repo/repodata/repomd.xml`)).status).toBe(400);
    }
    // The longest name allowed works, and is one directory.
    const longest = `artifacts/yum/${"l".repeat(246 - "artifacts/yum/".length)}`;
    expect((await stack.call("POST", "/repository", { repository: longest, properties: {} })).status).toBe(
      200,
    );
    const added = tree(stack.dataDir).filter((p) => !before.includes(p));
    expect(added.length).toBeGreaterThan(0);
    expect(added.every((p) => p.startsWith(`artifacts/yum/${longest.slice("artifacts/yum/".length)}`))).toBe(
      true,
    );
  });
});
