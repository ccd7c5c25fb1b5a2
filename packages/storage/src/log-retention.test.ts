import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { indexDrivers } from "./test-support/index-drivers.js";

describe.each(indexDrivers())("repository log retention on $name", (driver) => {
  beforeAll(() => driver.setup());
  afterAll(() => driver.teardown());

  const open = (maxRows: number, maxAgeSeconds: number) =>
    driver.open({ logRetention: { maxRows, maxAgeSeconds } });

  it("keeps the newest max rows", async () => {
    const index = await open(50, 10_000_000);
    for (let i = 0; i < 500; i++) await index.addLog("INFO", `line ${i}`, 1_000 + i);
    const lines = (await index.listLogs()).map((l) => l.message);
    expect(lines).toHaveLength(50);
    expect(lines[0]).toBe("line 450");
    expect(lines.at(-1)).toBe("line 499");
    index.close();
  });

  it("applies to the lines written with events, publishes and sync ends too (same transactions)", async () => {
    const index = await open(3, 10_000_000);
    await index.createRepository({ mirror: false, mirror_urls: [], gpg_key: "" }, 1);
    for (let i = 0; i < 4; i++) {
      const seq = await index.appendEvent({ action: "delete", tag: `t${i}` }, 1);
      await index.applyEvent(seq, 1, async (tx) => {
        await tx.addLog("INFO", `event ${i}`);
        return { changed: true };
      });
    }
    await index.recordPublish(1, {
      seq: 4,
      revision: 1,
      repomd: "<repomd/>",
      durationMs: 5,
      log: "published",
    });
    await index.beginSync(10);
    await index.endSync(20, "", { log: "sync finished" });
    expect((await index.listLogs()).map((l) => l.message)).toEqual(["event 3", "published", "sync finished"]);
    index.close();
  });

  it("writes no INFO line with info: false (log.repository_info), errors still", async () => {
    const index = await driver.open({
      logRetention: { maxRows: 100, maxAgeSeconds: 10_000_000, info: false },
    });
    await index.addLog("INFO", "published", 1);
    await index.beginSync(1);
    await index.endSync(2, "", { log: "sync finished" });
    await index.addLog("ERROR", "sync failed: x", 3);
    expect((await index.listLogs()).map((l) => l.message)).toEqual(["sync failed: x"]);
    index.close();
  });

  it("keeps no line of an event that rolled back", async () => {
    const index = await open(100, 10_000_000);
    const seq = await index.appendEvent({ action: "delete", tag: "t" }, 1);
    await expect(
      index.applyEvent(seq, 1, async (tx) => {
        await tx.addLog("INFO", "removed t");
        throw new Error("crash");
      }),
    ).rejects.toThrow("crash");
    expect(await index.listLogs()).toEqual([]);
    index.close();
  });

  it("prunes lines older than the max age, and a backlog a batch (100) per line written", async () => {
    const old = await open(1_000_000, 10_000_000);
    for (let i = 0; i < 450; i++) await old.addLog("INFO", `old ${i}`, 1_000);
    old.close();
    // Reopened with a 1 day retention, years later.
    const index = await driver.reopen(old, { logRetention: { maxRows: 1_000_000, maxAgeSeconds: 86_400 } });
    const now = 1_000 + 400 * 86_400;
    await index.addLog("INFO", "new 0", now);
    expect(await index.listLogs()).toHaveLength(450 - 100 + 1);
    for (let i = 1; i < 5; i++) await index.addLog("INFO", `new ${i}`, now + i);
    expect((await index.listLogs()).map((l) => l.message)).toEqual([
      "new 0",
      "new 1",
      "new 2",
      "new 3",
      "new 4",
    ]);
    // Pages stay contiguous after pruning.
    const first = await index.listLogsPage(2);
    expect((await index.listLogsPage(10, first.at(-1)!.id)).map((l) => l.message)).toEqual([
      "new 2",
      "new 3",
      "new 4",
    ]);
    // And backwards: the newest lines up to a line, oldest first; the last ones without a line.
    const messages = (page: { message: string }[]) => page.map((l) => l.message);
    expect(messages(await index.listLogsPageBefore(2))).toEqual(["new 3", "new 4"]);
    expect(messages(await index.listLogsPageBefore(10, first.at(-1)!.id))).toEqual(["new 0", "new 1"]);
    expect(await index.listLogsPageBefore(10, first[0]!.id - 1)).toEqual([]);
    index.close();
  });
});
