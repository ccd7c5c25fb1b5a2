import { RepositoryStorage } from "@beskar-yum/storage";
import Database from "better-sqlite3";
import { Queue } from "bullmq";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Stack, startStack } from "./harness/stack.js";
import { eventually } from "./support/eventually.js";
import { connectRedis } from "./support/redis.js";
import { manyFixtures } from "./support/rpm-fixtures.js";
import { cleanupTempDirs, makeTempDir } from "./support/tmp.js";

/** The lines of a process's JSON log whose message is `msg`. */
const logLines = (output: string, msg: string) =>
  output
    .split("\n")
    .filter((line) => line.includes(`"msg":"${msg}"`))
    .map((line) => JSON.parse(line) as Record<string, any>);

describe("a worker whose jobs throw", () => {
  let stack: Stack;
  const redis = connectRedis();
  const queues: Queue[] = [];
  beforeAll(async () => {
    stack = await startStack({ name: "wfail" });
  });
  afterAll(async () => {
    await Promise.all(queues.map((q) => q.close()));
    redis.disconnect();
    await stack?.stop();
    await cleanupTempDirs();
  });

  /** A producer on the stack's queue `name`, as anything with access to Redis can be. */
  const queue = (name: string) => {
    const q = new Queue(name, { connection: redis, prefix: stack.prefix });
    queues.push(q);
    return q;
  };

  it("fails each of them with a log line, keeps running, and goes on with the next job", async () => {
    const worker = stack.workers[0]!;
    // A repository whose stored state is hostile: its properties are not JSON, and it is marked syncing.
    const hostile = "artifacts/yum/w-hostile";
    expect((await stack.call("POST", "/repository", { repository: hostile, properties: {} })).status).toBe(
      200,
    );
    const db = new Database(new RepositoryStorage(stack.dataDir).paths(hostile).index);
    db.prepare("UPDATE repository SET properties = '{not json' WHERE id = 1").run();
    db.prepare("UPDATE sync_state SET syncing = 1, start_time = 1234 WHERE id = 1").run();

    // Payloads no API would send, written straight into BullMQ's queues.
    const events = queue("repo-events");
    const syncs = queue("repo-sync");
    const once = { attempts: 1 };
    await events.add("process", { repository: 42 }, once);
    await events.add("process", { repository: "../../../../etc" }, once);
    await events.add("process", "not an object", once);
    await syncs.add("sync", { repository: "artifacts/yum/w-none" }, once);
    await syncs.add("sync", { repository: hostile, startTime: 1234 }, once);

    const output = () => worker.output();
    const settled = () =>
      logLines(output(), "repository job failed").length >= 3 &&
      logLines(output(), "sync job failed").length >= 2;
    await eventually("the five bad jobs to fail", async () => settled() || undefined, {
      timeoutMs: 20_000,
      context: output,
    });
    const failed = [...logLines(output(), "repository job failed"), ...logLines(output(), "sync job failed")];
    expect(failed.map((l) => l.err.code).sort()).toEqual([
      "INVALID_REPOSITORY_NAME",
      "JOB_INVALID",
      "JOB_INVALID",
      "JOB_INVALID",
      undefined, // the hostile index: JSON.parse's SyntaxError, with its stack
    ]);
    expect(failed.find((l) => l.err.code === undefined)?.err.stack).toMatch(/^SyntaxError: .*JSON/);

    // The hostile repository's sync ended with the failure instead of staying marked running.
    const sync = db.prepare("SELECT syncing, sync_error FROM sync_state WHERE id = 1").get() as {
      syncing: number;
      sync_error: string;
    };
    db.close();
    expect(sync.syncing).toBe(0);
    expect(sync.sync_error).toMatch(/^sync interrupted: .*JSON/);

    // Still the same process, and it processes the next job.
    expect(await Promise.race([worker.exited, new Promise((r) => setTimeout(() => r("running"), 100))])).toBe(
      "running",
    );
    const repo = "artifacts/yum/w-next";
    const [rpm] = await manyFixtures(makeTempDir("wfail-rpms"), 1);
    expect((await stack.upload(repo, rpm!, { wait: true })).status).toBe(201);
    expect(output()).not.toMatch(/"level":60/); // nothing fatal
  });
});
