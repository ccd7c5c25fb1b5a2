import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Stack, startStack } from "./harness/stack.js";
import { rockyTestdata, startUpstream, type Upstream } from "./harness/upstream.js";
import { cleanupTempDirs } from "./support/tmp.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("a mirror sync whose worker is SIGKILLed three times", () => {
  let stack: Stack;
  let upstream: Upstream;
  beforeAll(async () => {
    // Slow, one-at-a-time package downloads: the sync is surely in flight at each kill.
    upstream = await startUpstream(
      { rocky: rockyTestdata },
      {
        intercept: async (_req, _res, path) => (path.endsWith(".rpm") ? sleep(250).then(() => false) : false),
      },
    );
    stack = await startStack({
      name: "wsync-crash",
      env: {
        BESKARYUM_SYNC_CONCURRENCY: "1",
        // Locks and stalled jobs of a dead worker come back after 1-2 s instead of 30-60 s.
        BESKARYUM_WORKER_LOCK_TTL_MS: "1000",
        BESKARYUM_WORKER_RECONCILE_INTERVAL_MS: "500",
      },
    });
  });
  afterAll(async () => {
    await stack?.stop();
    await upstream?.server.close();
    await cleanupTempDirs();
  });

  const rpmRequests = () => upstream.server.requests.filter((r) => r.path.endsWith(".rpm")).length;
  /** Waits until the upstream has served `count` more package requests than `from`. */
  const waitForDownloads = async (from: number, count: number) => {
    const deadline = Date.now() + 20_000;
    while (rpmRequests() < from + count) {
      if (Date.now() > deadline) throw new Error(`no package download within 20 s (at ${rpmRequests()})`);
      await sleep(20);
    }
  };

  it("ends with a clear sync_error, and sync and delete work afterwards", async () => {
    const repository = "artifacts/yum/w-crash";
    const created = await stack.call("POST", "/repository", {
      repository,
      properties: { mirror: true, mirror_urls: [upstream.url("rocky")] },
    });
    expect(created.status).toBe(200);
    const status = async () =>
      (await stack.call("GET", "/repository/sync:status", { repository })).json.sync_status;
    expect((await stack.call("GET", "/repository/sync", { repository })).status).toBe(200);

    // Each worker is killed once it is downloading: the first run, then each resumed run.
    for (let kill = 1; kill <= 3; kill++) {
      await waitForDownloads(rpmRequests(), 1);
      await stack.workers[0]!.kill9();
      stack.workers.splice(0);
      expect((await status()).syncing).toBe(true);
      await stack.startWorker();
    }

    const deadline = Date.now() + 30_000;
    while ((await status()).syncing && Date.now() < deadline) await sleep(100);
    const failed = await status();
    expect(failed.syncing).toBe(false);
    expect(failed.sync_error).toMatch(
      /^sync interrupted: its worker stopped 3 times before the sync could finish \(job stalled more than allowable limit\)/,
    );
    const logs = (await stack.call("GET", "/repository/logs", { repository })).json.logs as {
      level: string;
      message: string;
    }[];
    expect(
      logs.some((l) => l.level === "ERROR" && l.message.startsWith("sync failed: sync interrupted")),
    ).toBe(true);

    // Nothing is stuck: a new sync runs (reusing what was stored) and completes...
    const again = await stack.call("GET", "/repository/sync", { repository });
    expect(again.status).toBe(200);
    const end = Date.now() + 30_000;
    while ((await status()).syncing && Date.now() < end) await sleep(100);
    expect(await status()).toMatchObject({ syncing: false, sync_error: "", synced_packages: 27 });
    // ...and the repository can be deleted.
    const deleted = await stack.call("DELETE", "/repository", { repository, delete_packages: true });
    expect(deleted.status).toBe(200);
  });
});
