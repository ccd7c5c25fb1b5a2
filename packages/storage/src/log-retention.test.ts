import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { SqliteRepoIndex } from "./sqlite-repo-index.js";

describe("repository log retention", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "bylogs-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const open = (maxRows: number, maxAgeSeconds: number) =>
    SqliteRepoIndex.open(join(dir, "index.db"), { create: true, logRetention: { maxRows, maxAgeSeconds } });

  it("keeps the newest max rows", () => {
    const index = open(50, 10_000_000);
    for (let i = 0; i < 500; i++) index.addLog("INFO", `line ${i}`, 1_000 + i);
    const lines = index.listLogs().map((l) => l.message);
    expect(lines).toHaveLength(50);
    expect(lines[0]).toBe("line 450");
    expect(lines.at(-1)).toBe("line 499");
    index.close();
  });

  it("applies to the lines written with events, publishes and sync ends too (same transactions)", () => {
    const index = open(3, 10_000_000);
    index.createRepository({ mirror: false, mirror_urls: [], gpg_key: "" }, 1);
    for (let i = 0; i < 4; i++) {
      const seq = index.appendEvent({ action: "delete", tag: `t${i}` }, 1);
      index.applyEvent(seq, 1, (tx) => {
        tx.addLog("INFO", `event ${i}`);
        return { changed: true };
      });
    }
    index.recordPublish(1, { seq: 4, revision: 1, repomd: "<repomd/>", durationMs: 5, log: "published" });
    index.beginSync(10);
    index.endSync(20, "", { log: "sync finished" });
    expect(index.listLogs().map((l) => l.message)).toEqual(["event 3", "published", "sync finished"]);
    index.close();
  });

  it("writes no INFO line with info: false (log.repository_info), errors still", () => {
    const index = SqliteRepoIndex.open(join(dir, "index.db"), {
      create: true,
      logRetention: { maxRows: 100, maxAgeSeconds: 10_000_000, info: false },
    });
    index.addLog("INFO", "published", 1);
    index.beginSync(1);
    index.endSync(2, "", { log: "sync finished" });
    index.addLog("ERROR", "sync failed: x", 3);
    expect(index.listLogs().map((l) => l.message)).toEqual(["sync failed: x"]);
    index.close();
  });

  it("keeps no line of an event that rolled back", () => {
    const index = open(100, 10_000_000);
    const seq = index.appendEvent({ action: "delete", tag: "t" }, 1);
    expect(() =>
      index.applyEvent(seq, 1, (tx) => {
        tx.addLog("INFO", "removed t");
        throw new Error("crash");
      }),
    ).toThrow("crash");
    expect(index.listLogs()).toEqual([]);
    index.close();
  });

  it("prunes lines older than the max age, and a backlog a batch (100) per line written", () => {
    const old = open(1_000_000, 10_000_000);
    for (let i = 0; i < 450; i++) old.addLog("INFO", `old ${i}`, 1_000);
    old.close();
    // Reopened with a 1 day retention, years later.
    const index = open(1_000_000, 86_400);
    const now = 1_000 + 400 * 86_400;
    index.addLog("INFO", "new 0", now);
    expect(index.listLogs()).toHaveLength(450 - 100 + 1);
    for (let i = 1; i < 5; i++) index.addLog("INFO", `new ${i}`, now + i);
    expect(index.listLogs().map((l) => l.message)).toEqual(["new 0", "new 1", "new 2", "new 3", "new 4"]);
    // Pages stay contiguous after pruning.
    const first = index.listLogsPage(2);
    expect(index.listLogsPage(10, first.at(-1)!.id).map((l) => l.message)).toEqual([
      "new 2",
      "new 3",
      "new 4",
    ]);
    index.close();
  });
});
