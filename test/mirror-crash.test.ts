import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { RepositoryStorage } from "@beskar-yum/storage";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { fetchPrimary, missingRepodataFiles } from "./harness/repodata-client.js";
import { type Stack, startStack } from "./harness/stack.js";
import { rockyTestdata, startUpstream, type Upstream } from "./harness/upstream.js";
import { cleanupTempDirs } from "./support/tmp.js";

const files = (
  parse(readFileSync(join(rockyTestdata, "repoconfig.yaml"), "utf8"))["vault-rocky-8.3-ha-debug"] as {
    files: Record<string, { sha256: string }>;
  }
).files;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("a worker killed with SIGKILL in the middle of a mirror sync", () => {
  let stack: Stack;
  let upstream: Upstream;
  beforeAll(async () => {
    // Slow package downloads so that the sync is surely in flight when the worker dies.
    upstream = await startUpstream(
      { rocky: rockyTestdata },
      {
        intercept: async (_req, _res, path) => (path.endsWith(".rpm") ? sleep(120).then(() => false) : false),
      },
    );
    stack = await startStack({
      name: "mcrash",
      env: {
        BESKARYUM_SYNC_CONCURRENCY: "2",
        BESKARYUM_WORKER_LOCK_TTL_MS: "2000",
        BESKARYUM_WORKER_RECONCILE_INTERVAL_MS: "500",
      },
    });
  });
  afterAll(async () => {
    await stack?.stop();
    await upstream?.server.close();
    await cleanupTempDirs();
  });

  it("resumes without downloading again what was stored, serving the last complete generation meanwhile", async () => {
    const repository = "artifacts/yum/m-crash";
    const created = await stack.call("POST", "/repository", {
      repository,
      properties: { mirror: true, mirror_urls: [upstream.url("rocky")] },
    });
    expect(created.status).toBe(200);
    expect((await stack.call("GET", "/repository/sync", { repository })).status).toBe(200);
    const status = async () =>
      (await stack.call("GET", "/repository/sync:status", { repository })).json.sync_status;
    const deadline = Date.now() + 20_000;
    while ((await status()).synced_packages < 6 && Date.now() < deadline) await sleep(20);

    await stack.workers[0]!.kill9();
    stack.workers.splice(0);
    const killedAt = upstream.server.requests.length;
    const blobDir = join(new RepositoryStorage(stack.dataDir).paths(repository).blobs, "sha256");
    const stored = new Set(readdirSync(blobDir).flatMap((shard) => readdirSync(join(blobDir, shard))));
    const storedRpms = Object.entries(files)
      .filter(([, f]) => stored.has(f.sha256))
      .map(([name]) => name);
    expect(storedRpms.length).toBeGreaterThanOrEqual(6);
    expect(storedRpms.length).toBeLessThan(27);
    expect((await status()).syncing).toBe(true);
    // Meanwhile: the last complete generation (the empty one of a new repository), consistent.
    expect((await fetchPrimary(stack.repoUrl(repository))).packages).toEqual([]);
    expect(await missingRepodataFiles(stack.repoUrl(repository))).toEqual([]);

    await stack.startWorker();
    const end = Date.now() + 45_000;
    while ((await status()).syncing && Date.now() < end) await sleep(100);
    expect(await status()).toMatchObject({
      syncing: false,
      sync_error: "",
      total_packages: 27,
      synced_packages: 27,
    });
    expect((await fetchPrimary(stack.repoUrl(repository))).packages).toHaveLength(27);
    const refetched = upstream.server.requests
      .slice(killedAt)
      .filter((r) => storedRpms.some((name) => r.path.endsWith(`/${name}`)));
    expect(refetched).toEqual([]);
  });
});
