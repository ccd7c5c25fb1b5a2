import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isYumError } from "@beskar-yum/errors";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { SqliteRepoIndex } from "./sqlite-repo-index.js";
import { fakeRecord } from "./test-support/fake-record.js";

const record = (tag: string, id: string) => fakeRecord(tag, { id });

describe("SqliteRepoIndex", () => {
  let dir: string;
  let index: SqliteRepoIndex;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "byindex-"));
    index = SqliteRepoIndex.open(join(dir, "index.db"), { create: true });
  });
  afterEach(() => {
    index.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("counts syncs and publishes in its stats, a sync once however often it is ended", () => {
    expect(index.getStats()).toMatchObject({ syncs: 0, syncFailures: 0, publishes: 0, lastGoodSyncEnd: 0 });
    index.beginSync(100);
    index.updateSyncState({ totalPackages: 7, downloadedBytes: 1000, downloadedPackages: 3 });
    index.endSync(110, "", { durationMs: 9_500, log: "sync finished" });
    index.endSync(111, "ended twice");
    index.beginSync(200);
    index.updateSyncState({ totalPackages: 0, downloadedBytes: 50, downloadedPackages: 0 });
    index.endSync(204, "upstream down", { log: "sync failed: upstream down" });
    index.recordPublish(1, { seq: 0, revision: 1, repomd: "<repomd/>", durationMs: 40 });
    index.recordPublish(1, { seq: 0, revision: 2, repomd: "<repomd/>", durationMs: 60 });
    expect(index.getStats()).toMatchObject({
      syncs: 2,
      syncFailures: 1,
      // Without a duration given, the sync's whole seconds.
      syncMsTotal: 9_500 + 4_000,
      lastSyncMs: 4_000,
      lastGoodSyncEnd: 110,
      lastGoodSyncPackages: 7,
      syncBytesTotal: 1050,
      syncPackagesTotal: 3,
      publishes: 2,
      publishMsTotal: 100,
      lastPublishMs: 60,
    });
    expect(index.listLogs().map((l) => [l.level, l.message])).toEqual([
      ["INFO", "sync finished"],
      ["ERROR", "sync failed: upstream down"],
    ]);
  });

  it("refuses to open a missing index without create", () => {
    expect(() => SqliteRepoIndex.open(join(dir, "missing.db"), { create: false })).toThrow();
  });

  it("keeps events in order and records their outcome when applied", () => {
    const a = index.appendEvent({ action: "delete", tag: "a" }, 1);
    const b = index.appendEvent({ action: "delete", tag: "b" }, 1);
    expect(index.pendingEvents(10).map((e) => e.seq)).toEqual([a, b]);
    expect(index.eventOutcome(a)).toBeUndefined();
    index.applyEvent(a, 5, () => ({ changed: false }));
    index.applyEvent(b, 5, () => ({ changed: false, error: "boom" }));
    expect(index.eventOutcome(a)).toBeNull();
    expect(index.eventOutcome(b)).toBe("boom");
    expect(index.hasPendingEvents()).toBe(false);
  });

  it("rolls back an event whose apply throws, leaving it pending", () => {
    const seq = index.appendEvent({ action: "delete", tag: "a" }, 1);
    expect(() =>
      index.applyEvent(seq, 5, (tx) => {
        tx.upsertPackage(record("a", "1".repeat(64)));
        throw new Error("crash in the middle");
      }),
    ).toThrow("crash in the middle");
    expect(index.countPackages()).toBe(0);
    expect(index.pendingEvents(10)).toHaveLength(1);
  });

  it("refuses writes from a stale fencing token", () => {
    const seq = index.appendEvent({ action: "publish" }, 1);
    index.applyEvent(seq, 100, () => ({ changed: true }));
    const next = index.appendEvent({ action: "publish" }, 1);
    let caught: unknown;
    try {
      index.applyEvent(next, 99, () => ({ changed: true }));
    } catch (err) {
      caught = err;
    }
    expect(isYumError(caught, "LOCK_LOST")).toBe(true);
    expect(() => index.recordPublish(99, { seq: 1, revision: 1, repomd: "x" })).toThrow(/lock lost/);
  });

  it("tracks dirty state across applies and publishes", () => {
    const s1 = index.appendEvent(
      { action: "put", digest: "d", fileName: "f", uploadTime: 1, verified: false },
      1,
    );
    index.applyEvent(s1, 1, (tx) => {
      tx.upsertPackage(record("b", "2".repeat(64)));
      tx.upsertPackage(record("a", "1".repeat(64)));
      return { changed: true };
    });
    expect(index.getState()).toMatchObject({ appliedSeq: s1, publishedSeq: 0, dirty: true });
    expect([...index.iterateFragments("primary")]).toEqual(["<p a/>", "<p b/>"]);
    index.recordPublish(1, { seq: s1, revision: 7, repomd: "<repomd/>" });
    expect(index.getState()).toMatchObject({
      publishedSeq: s1,
      dirty: false,
      revision: 7,
      repomd: "<repomd/>",
    });
    expect(index.referencedDigests()).toEqual(new Set(["1".repeat(64), "2".repeat(64)]));
  });

  it("keeps the repomd.xml each publish or mirror generation replaces, and stores logs and sync errors redacted", () => {
    const repomd = (n: number) =>
      `<repomd><data><location href="repodata/${n}-primary.xml.gz"/></data></repomd>`;
    index.recordPublish(1, { seq: 0, revision: 1, repomd: repomd(1) });
    index.recordPublish(1, { seq: 0, revision: 2, repomd: repomd(2) });
    index.commitMirrorGeneration(1, {
      upsert: [],
      deleteTags: [],
      revision: 3,
      repomd: repomd(3),
      repomdAsc: undefined,
    });
    const now = Math.floor(Date.now() / 1000);
    expect(index.retiredRepomdNaming("1-primary.xml.gz", now - 60)).toEqual([repomd(1)]);
    expect(index.retiredRepomdNaming("2-primary.xml.gz", now - 60)).toEqual([repomd(2)]);
    expect(index.retiredRepomdNaming("3-primary.xml.gz", now - 60)).toEqual([]);
    expect(index.retiredRepomdNaming("1-primary.xml.gz", now + 60)).toEqual([]);

    index.addLog("ERROR", "sync failed: http://u:s3cret@h/: HTTP 401", now);
    index.endSync(now, "http://u:s3cret@h/: HTTP 401");
    expect(index.listLogs().map((l) => l.message)).toEqual(["sync failed: http://u:***@h/: HTTP 401"]);
    expect(index.getSyncState().syncError).toBe("http://u:***@h/: HTTP 401");
  });

  it("stores packages and finds them by id, tag and file name", () => {
    const seq = index.appendEvent({ action: "publish" }, 1);
    index.applyEvent(seq, 1, (tx) => {
      tx.upsertPackage(record("a", "1".repeat(64)));
      return { changed: true };
    });
    expect(index.getPackageById("1".repeat(64))?.tag).toBe("a");
    expect(index.getPackageByTag("a")?.verified).toBe(false);
    expect(index.getPackageByFileName("a.rpm")?.href).toBe("Packages/a/a.rpm");
    expect(index.listPackages()).toHaveLength(1);
  });

  it("lists hrefs, tags and upstream checksums without the XML fragments (a mirror sync's plan)", () => {
    index.commitMirrorGeneration(0, {
      upsert: [
        { ...record("b", "2".repeat(64)), upstreamChecksum: "sha256:abc" },
        record("a", "1".repeat(64)),
      ],
      deleteTags: [],
      revision: 1,
      repomd: "<repomd/>",
      repomdAsc: undefined,
    });
    expect(index.listPackageChecksums()).toEqual([
      { href: "Packages/a/a.rpm", tag: "a" },
      { href: "Packages/b/b.rpm", tag: "b", upstreamChecksum: "sha256:abc" },
    ]);
  });

  it("stages a mirror generation's rows out of sight until the commit switches them in", () => {
    index.commitMirrorGeneration(0, {
      upsert: [record("a", "1".repeat(64)), record("b", "2".repeat(64))],
      deleteTags: [],
      revision: 1,
      repomd: "<repomd/>",
      repomdAsc: undefined,
    });
    // An earlier sync staged a row and crashed; the next one clears it and stages its own batches.
    index.stagePackages(0, [record("z", "9".repeat(64))]);
    index.clearStagedPackages(0);
    index.stagePackages(0, [record("a", "3".repeat(64))]);
    index.stagePackages(0, [record("c", "4".repeat(64))]);
    expect(index.listPackages().map((p) => [p.tag, p.id[0]])).toEqual([
      ["a", "1"],
      ["b", "2"],
    ]);
    index.commitMirrorGeneration(0, {
      deleteTags: ["b"],
      revision: 2,
      repomd: "<repomd/>",
      repomdAsc: undefined,
    });
    expect(index.listPackages().map((p) => [p.tag, p.id[0]])).toEqual([
      ["a", "3"],
      ["c", "4"],
    ]);
    // The replaced and the removed file stay fetchable for clients of the previous generation.
    expect(index.getRetiredPackage("a.rpm")?.id).toBe("1".repeat(64));
    expect(index.getRetiredPackage("b.rpm")?.id).toBe("2".repeat(64));
    // Staged rows went in once: a later commit switches in nothing more.
    index.commitMirrorGeneration(0, {
      deleteTags: [],
      revision: 3,
      repomd: "<repomd/>",
      repomdAsc: undefined,
    });
    expect(index.listPackages()).toHaveLength(2);
  });

  it("remembers removed and replaced packages by file name until pruned", () => {
    const first = index.appendEvent({ action: "publish" }, 1);
    index.applyEvent(first, 1, (tx) => {
      tx.upsertPackage(record("a", "1".repeat(64)));
      tx.upsertPackage(record("b", "2".repeat(64)));
      return { changed: true };
    });
    const second = index.appendEvent({ action: "publish" }, 1);
    index.applyEvent(second, 1, (tx) => {
      tx.deletePackage("a");
      tx.upsertPackage(record("b", "3".repeat(64)));
      return { changed: true };
    });
    expect(index.getPackageByFileName("a.rpm")).toBeUndefined();
    expect(index.getRetiredPackage("a.rpm")).toEqual({ id: "1".repeat(64) });
    expect(index.getRetiredPackage("b.rpm")).toEqual({ id: "2".repeat(64) });
    index.pruneRetiredPackages(Math.floor(Date.now() / 1000) + 1);
    expect(index.getRetiredPackage("a.rpm")).toBeUndefined();
  });
});
