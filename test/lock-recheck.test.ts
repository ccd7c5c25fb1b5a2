import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RepoLock } from "../packages/queue/src/repo-lock.js";
import { type Stack, startStack } from "./harness/stack.js";
import { connectRedis } from "./support/redis.js";
import { cleanupTempDirs } from "./support/tmp.js";

// Work that arrives while something other than the worker holds a repository's lock (here the
// API's `create`) is processed as soon as that holder lets go, not at the reconciler's next scan:
// the stack runs with the default 30 s reconcile interval, which the crash tests shorten to 0.5 s.

const RPM = new URL(
  "./fixtures/rocky-8.3-ha-debug/Packages/booth-debugsource-1.0-6.ac1d34c.git.el8.2.x86_64.rpm",
  import.meta.url,
).pathname;

let stack: Stack;
const redis = connectRedis();

beforeAll(async () => {
  stack = await startStack({ name: "lock-recheck" });
}, 60_000);

afterAll(async () => {
  await stack?.stop();
  redis.disconnect();
  await cleanupTempDirs();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("the repository lock's holders re-check for work after releasing it", () => {
  it("publishes an upload that arrived while create() held the lock, without waiting for the reconciler", async () => {
    const repository = "artifacts/yum/lock-recheck";
    // Someone else (a worker, the plugin replica) holds the lock: create() waits for it.
    const other = new RepoLock(redis, stack.prefix);
    const held = await other.tryAcquire(repository);
    expect(held).toBeDefined();
    const creating = stack.call("POST", "/repository", { repository, properties: {} });
    for (let i = 0; (await stack.call("GET", "/repository", { repository })).status !== 200; i++) {
      expect(i).toBeLessThan(100);
      await sleep(50);
    }
    // The upload's trigger reaches the worker while the lock is taken: the worker returns at once.
    const t0 = Date.now();
    const uploading = stack.upload(repository, RPM, { wait: true });
    await sleep(1500);
    // The other holder lets go; create() takes the lock, publishes the empty repodata, releases.
    await held!.release();
    const released = Date.now();
    expect((await creating).status).toBe(200);
    const uploaded = await uploading;
    expect(uploaded.status, JSON.stringify(uploaded.json)).toBe(201);
    // create()'s release triggered the upload's processing: well before the reconciler's 30 s.
    expect(Date.now() - released).toBeLessThan(5000);
    expect(Date.now() - t0).toBeLessThan(10_000);
    const primary = await fetch(`${stack.repoUrl(repository)}repodata/repomd.xml`);
    expect(primary.status).toBe(200);
  }, 60_000);
});
