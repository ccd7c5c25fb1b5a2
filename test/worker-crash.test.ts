import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fetchPrimary, missingRepodataFiles } from "./harness/repodata-client.js";
import { type Stack, startStack } from "./harness/stack.js";
import { manyFixtures } from "./support/rpm-fixtures.js";
import { cleanupTempDirs, makeTempDir } from "./support/tmp.js";

describe("a worker killed with SIGKILL in the middle of a burst", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({
      name: "crash",
      env: {
        // Keep the worker busy (holding the repository lock) long enough to be killed mid-job,
        // and let its lock expire quickly so that the test does not wait the default 30 s.
        BESKARYUM_PUBLISH_DEBOUNCE_MS: "400",
        BESKARYUM_PUBLISH_MAX_DELAY_MS: "5000",
        BESKARYUM_WORKER_LOCK_TTL_MS: "2000",
        BESKARYUM_WORKER_RECONCILE_INTERVAL_MS: "500",
      },
    });
  });
  afterAll(async () => {
    await stack?.stop();
    await cleanupTempDirs();
  });

  it("loses nothing: a new worker finishes the job and the repository stays servable throughout", async () => {
    const repo = "artifacts/yum/crash";
    const rpms = await manyFixtures(makeTempDir("crash-rpms"), 30);
    expect((await stack.call("POST", "/repository", { repository: repo, properties: {} })).status).toBe(200);

    let polling = true;
    const problems: string[] = [];
    const poller = (async () => {
      while (polling) problems.push(...(await missingRepodataFiles(stack.repoUrl(repo))));
    })();

    const results = await Promise.all(rpms.map((rpm) => stack.upload(repo, rpm)));
    expect(results.map((r) => r.status)).toEqual(rpms.map(() => 202));
    await stack.workers[0]!.kill9();
    stack.workers.splice(0);
    const publishedAtKill = (await fetchPrimary(stack.repoUrl(repo))).packages.length;
    expect(publishedAtKill).toBeLessThan(30);

    await stack.startWorker();
    const deadline = Date.now() + 45_000;
    let names: string[] = [];
    while (Date.now() < deadline) {
      names = (await fetchPrimary(stack.repoUrl(repo))).packages.map((p) => p.name);
      if (names.length >= 30) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    polling = false;
    await poller;
    expect(names).toHaveLength(30);
    expect(new Set(names).size).toBe(30);
    expect(problems).toEqual([]);
    const list = await stack.call("GET", "/repository/package:list", { repository: repo });
    expect(list.json.repository_packages).toHaveLength(30);
    const logs = await stack.call("GET", "/repository/logs", { repository: repo });
    // Nothing failed (INFO lines say what was uploaded and published).
    expect(logs.json.logs.filter((l: { level: string }) => l.level !== "INFO")).toEqual([]);
  });
});
