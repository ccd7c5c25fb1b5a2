import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
// The built storage (npm run build first): its commit thread is a module of dist/.
import { type PackageRecord, SqliteRepoIndex } from "../packages/storage/dist/index.js";
import { fakeRecord } from "../packages/storage/src/test-support/fake-record.js";

function record(i: number): PackageRecord {
  const tag = i.toString(16).padStart(32, "0");
  return fakeRecord(tag, {
    id: tag.padEnd(64, "a"),
    fileName: `p${i}.rpm`,
    href: `Packages/p/p${i}.rpm`,
    name: `p${i}`,
    arch: "x86_64",
    summary: "s",
    description: "d".repeat(200),
    upstreamChecksum: `sha256:${tag}`,
    primaryXml: "p".repeat(1500),
    filelistsXml: "f".repeat(1500),
    otherXml: "",
  });
}

/** The longest the event loop went without running a 10 ms timer while `work` ran. */
async function eventLoopLag(work: () => Promise<void>): Promise<{ lag: number; took: number }> {
  let lag = 0;
  let last = Date.now();
  const timer = setInterval(() => {
    const now = Date.now();
    lag = Math.max(lag, now - last - 10);
    last = now;
  }, 10);
  const started = Date.now();
  try {
    await work();
  } finally {
    clearInterval(timer);
  }
  return { lag, took: Date.now() - started };
}

describe("a mirror generation of many packages is committed off the event loop", () => {
  let dir: string;
  let index: SqliteRepoIndex;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), "bycommit-"));
    index = SqliteRepoIndex.open(join(dir, "index.db"), { create: true });
    await index.createRepository({ mirror: true, mirror_urls: [], gpg_key: "" }, 1);
  });
  afterEach(async () => {
    index.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const stage = async (count: number) => {
    for (let i = 0; i < count; i += 256)
      await index.stagePackages(
        5,
        Array.from({ length: Math.min(256, count - i) }, (_, j) => record(i + j)),
      );
  };

  it("keeps timers (the lock renewals) running while the rows are switched in, atomically", async () => {
    const count = 60_000;
    await stage(count);
    const { lag, took } = await eventLoopLag(() =>
      index.commitMirrorGenerationAsync(5, {
        deleteTags: [],
        revision: 2,
        repomd: "<repomd/>",
        repomdAsc: undefined,
      }),
    );
    console.log(`commit of ${count} staged rows: ${took} ms, longest event-loop stall ${lag} ms`);
    expect(took).toBeGreaterThan(lag * 3);
    expect(lag).toBeLessThan(200);
    expect(await index.countPackages()).toBe(count);
    expect((await index.getState()).repomd).toBe("<repomd/>");
    expect((await index.registry.state()).generation).toBe(2);
  });

  it("a stale fence is refused on the thread too (LOCK_LOST), and nothing is switched in", async () => {
    await stage(300);
    await index.markPublished(9, 0);
    await expect(
      index.commitMirrorGenerationAsync(
        5,
        { deleteTags: [], revision: 2, repomd: "<repomd/>", repomdAsc: undefined },
        { offThreadRows: 10 },
      ),
    ).rejects.toMatchObject({ code: "LOCK_LOST" });
    expect(await index.countPackages()).toBe(0);
  });
});
