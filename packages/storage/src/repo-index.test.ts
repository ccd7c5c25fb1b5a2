import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isYumError } from "@beskar-yum/errors";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { RepoIndex } from "./repo-index.js";
import { SqliteRepoIndex } from "./sqlite-repo-index.js";
import { collect } from "./test-support/collect.js";
import { fakeRecord } from "./test-support/fake-record.js";
import { indexDrivers } from "./test-support/index-drivers.js";

const record = (tag: string, id: string) => fakeRecord(tag, { id });

it("SqliteRepoIndex refuses to open a missing index without create", () => {
  const dir = mkdtempSync(join(tmpdir(), "byindex-"));
  try {
    expect(() => SqliteRepoIndex.open(join(dir, "missing.db"), { create: false })).toThrow();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

describe.each(indexDrivers())("RepoIndex on $name", (driver) => {
  let index: RepoIndex;
  beforeAll(() => driver.setup());
  afterAll(() => driver.teardown());
  beforeEach(async () => {
    index = await driver.open();
  });

  it("keeps events in order and records their outcome when applied", async () => {
    const a = await index.appendEvent({ action: "delete", tag: "a" }, 1);
    const b = await index.appendEvent({ action: "delete", tag: "b" }, 1);
    expect((await index.pendingEvents(10)).map((e) => e.seq)).toEqual([a, b]);
    expect(await index.eventOutcome(a)).toBeUndefined();
    await index.applyEvent(a, 5, async () => ({ changed: false }));
    await index.applyEvent(b, 5, async () => ({ changed: false, error: "boom" }));
    expect(await index.eventOutcome(a)).toBeNull();
    expect(await index.eventOutcome(b)).toBe("boom");
    expect(await index.hasPendingEvents()).toBe(false);
  });

  it("rolls back an event whose apply throws, leaving it pending", async () => {
    const seq = await index.appendEvent({ action: "delete", tag: "a" }, 1);
    await expect(
      index.applyEvent(seq, 5, async (tx) => {
        await tx.upsertPackage(record("a", "1".repeat(64)));
        throw new Error("crash in the middle");
      }),
    ).rejects.toThrow("crash in the middle");
    expect(await index.countPackages()).toBe(0);
    expect(await index.pendingEvents(10)).toHaveLength(1);
  });

  it("refuses writes from a stale fencing token", async () => {
    const seq = await index.appendEvent({ action: "publish" }, 1);
    await index.applyEvent(seq, 100, async () => ({ changed: true }));
    const next = await index.appendEvent({ action: "publish" }, 1);
    let caught: unknown;
    try {
      await index.applyEvent(next, 99, async () => ({ changed: true }));
    } catch (err) {
      caught = err;
    }
    expect(isYumError(caught, "LOCK_LOST")).toBe(true);
    await expect(index.recordPublish(99, { seq: 1, revision: 1, repomd: "x" })).rejects.toThrow(/lock lost/);
  });

  it("tracks dirty state across applies and publishes", async () => {
    const s1 = await index.appendEvent(
      { action: "put", digest: "d", fileName: "f", uploadTime: 1, verified: false },
      1,
    );
    await index.applyEvent(s1, 1, async (tx) => {
      await tx.upsertPackage(record("b", "2".repeat(64)));
      await tx.upsertPackage(record("a", "1".repeat(64)));
      return { changed: true };
    });
    expect(await index.getState()).toMatchObject({ appliedSeq: s1, publishedSeq: 0, dirty: true });
    expect(await collect(index.iterateFragments("primary"))).toEqual(["<p a/>", "<p b/>"]);
    await index.recordPublish(1, { seq: s1, revision: 7, repomd: "<repomd/>" });
    expect(await index.getState()).toMatchObject({
      publishedSeq: s1,
      dirty: false,
      revision: 7,
      repomd: "<repomd/>",
    });
    expect(await index.referencedDigests()).toEqual(new Set(["1".repeat(64), "2".repeat(64)]));
  });

  it("counts syncs and publishes in its stats, a sync once however often it is ended", async () => {
    expect(await index.getStats()).toMatchObject({
      syncs: 0,
      syncFailures: 0,
      publishes: 0,
      lastGoodSyncEnd: 0,
    });
    await index.beginSync(100);
    await index.updateSyncState({ totalPackages: 7, downloadedBytes: 1000, downloadedPackages: 3 });
    await index.endSync(110, "", { durationMs: 9_500, log: "sync finished" });
    await index.endSync(111, "ended twice");
    await index.beginSync(200);
    await index.updateSyncState({ totalPackages: 0, downloadedBytes: 50, downloadedPackages: 0 });
    await index.endSync(204, "upstream down", { log: "sync failed: upstream down" });
    await index.recordPublish(1, { seq: 0, revision: 1, repomd: "<repomd/>", durationMs: 40 });
    await index.recordPublish(1, { seq: 0, revision: 2, repomd: "<repomd/>", durationMs: 60 });
    // Signed again (key rotation): the signature is stored, but it is no publish of its own.
    await index.recordPublish(1, { seq: 0, revision: 2, repomd: "<repomd/>", repomdAsc: "-----SIG-----" });
    expect(await index.getStats()).toMatchObject({
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
    expect((await index.getStats()).lastPublishTime).toBeGreaterThan(0);
    expect(await index.getState()).toMatchObject({ revision: 2, repomdAsc: "-----SIG-----" });
    expect((await index.listLogs()).map((l) => [l.level, l.message])).toEqual([
      ["INFO", "sync finished"],
      ["ERROR", "sync failed: upstream down"],
    ]);
  });

  it("keeps the repomd.xml each publish or mirror generation replaces, and stores logs and sync errors redacted", async () => {
    const repomd = (n: number) =>
      `<repomd><data><location href="repodata/${n}-primary.xml.gz"/></data></repomd>`;
    await index.recordPublish(1, { seq: 0, revision: 1, repomd: repomd(1) });
    await index.recordPublish(1, { seq: 0, revision: 2, repomd: repomd(2) });
    await index.commitMirrorGeneration(1, {
      upsert: [],
      deleteTags: [],
      revision: 3,
      repomd: repomd(3),
      repomdAsc: undefined,
    });
    const now = Math.floor(Date.now() / 1000);
    expect(await index.retiredRepomdNaming("1-primary.xml.gz", now - 60)).toEqual([repomd(1)]);
    expect(await index.retiredRepomdNaming("2-primary.xml.gz", now - 60)).toEqual([repomd(2)]);
    expect(await index.retiredRepomdNaming("3-primary.xml.gz", now - 60)).toEqual([]);
    expect(await index.retiredRepomdNaming("1-primary.xml.gz", now + 60)).toEqual([]);

    await index.addLog("ERROR", "sync failed: http://u:s3cret@h/: HTTP 401", now);
    await index.endSync(now, "http://u:s3cret@h/: HTTP 401");
    expect((await index.listLogs()).map((l) => l.message)).toEqual([
      "sync failed: http://u:***@h/: HTTP 401",
    ]);
    expect((await index.getSyncState()).syncError).toBe("http://u:***@h/: HTTP 401");
  });

  it("stores packages and finds them by id, tag and file name", async () => {
    const seq = await index.appendEvent({ action: "publish" }, 1);
    await index.applyEvent(seq, 1, async (tx) => {
      await tx.upsertPackage(record("a", "1".repeat(64)));
      return { changed: true };
    });
    expect((await index.getPackageById("1".repeat(64)))?.tag).toBe("a");
    expect((await index.getPackageByTag("a"))?.verified).toBe(false);
    expect((await index.getPackageByFileName("a.rpm"))?.href).toBe("Packages/a/a.rpm");
    expect(await index.listPackages()).toHaveLength(1);
  });

  it("lists hrefs, tags and upstream checksums without the XML fragments (a mirror sync's plan)", async () => {
    await index.commitMirrorGeneration(0, {
      upsert: [
        { ...record("b", "2".repeat(64)), upstreamChecksum: "sha256:abc" },
        record("a", "1".repeat(64)),
      ],
      deleteTags: [],
      revision: 1,
      repomd: "<repomd/>",
      repomdAsc: undefined,
    });
    expect(await index.listPackageChecksums()).toEqual([
      { href: "Packages/a/a.rpm", tag: "a" },
      { href: "Packages/b/b.rpm", tag: "b", upstreamChecksum: "sha256:abc" },
    ]);
  });

  it("stages a mirror generation's rows out of sight until the commit switches them in", async () => {
    await index.commitMirrorGeneration(0, {
      upsert: [record("a", "1".repeat(64)), record("b", "2".repeat(64))],
      deleteTags: [],
      revision: 1,
      repomd: "<repomd/>",
      repomdAsc: undefined,
    });
    // An earlier sync staged a row and crashed; the next one clears it and stages its own batches.
    await index.stagePackages(0, [record("z", "9".repeat(64))]);
    await index.clearStagedPackages(0);
    await index.stagePackages(0, [record("a", "3".repeat(64))]);
    await index.stagePackages(0, [record("c", "4".repeat(64))]);
    expect((await index.listPackages()).map((p) => [p.tag, p.id[0]])).toEqual([
      ["a", "1"],
      ["b", "2"],
    ]);
    await index.commitMirrorGeneration(0, {
      deleteTags: ["b"],
      revision: 2,
      repomd: "<repomd/>",
      repomdAsc: undefined,
    });
    expect((await index.listPackages()).map((p) => [p.tag, p.id[0]])).toEqual([
      ["a", "3"],
      ["c", "4"],
    ]);
    // The replaced and the removed file stay fetchable for clients of the previous generation.
    expect((await index.getRetiredPackage("a.rpm"))?.id).toBe("1".repeat(64));
    expect((await index.getRetiredPackage("b.rpm"))?.id).toBe("2".repeat(64));
    // Staged rows went in once: a later commit switches in nothing more.
    await index.commitMirrorGeneration(0, {
      deleteTags: [],
      revision: 3,
      repomd: "<repomd/>",
      repomdAsc: undefined,
    });
    expect(await index.listPackages()).toHaveLength(2);
  });

  it("pages packages by (href, tag) and iterates fragments of any number of rows in href order", async () => {
    const records = Array.from({ length: 1_203 }, (_, i) =>
      record(`p${String(i).padStart(5, "0")}`, "1".repeat(64)),
    );
    for (let i = 0; i < records.length; i += 256) await index.stagePackages(0, records.slice(i, i + 256));
    await index.commitMirrorGeneration(0, {
      deleteTags: [],
      revision: 1,
      repomd: "<r/>",
      repomdAsc: undefined,
    });
    expect(await index.countPackages()).toBe(1_203);
    const fragments = await collect(index.iterateFragments("primary"));
    expect(fragments).toEqual(records.map((r) => r.primaryXml));
    const first = await index.listPackageSummaries(500);
    const second = await index.listPackageSummaries(500, first.at(-1));
    expect(second[0]?.tag).toBe("p00500");
    expect(second.at(-1)?.tag).toBe("p00999");
    expect("primaryXml" in second[0]!).toBe(false);
  });

  it("records the registry replica's manifests and its pending generation", async () => {
    const before = (await index.registry.state()).generation;
    await index.registry.put({
      kind: "packages",
      tag: "t",
      layerDigest: "sha256:l",
      manifestDigest: "sha256:m",
    });
    expect((await index.registry.state()).generation).toBe(before);
    await index.registry.put(
      { kind: "packages", tag: "t", layerDigest: "sha256:l2", manifestDigest: "sha256:m2" },
      { external: true },
    );
    expect((await index.registry.state()).generation).toBe(before + 1);
    expect((await index.registry.byManifestDigest("packages", "sha256:m2"))?.tag).toBe("t");
    expect(await index.registry.listPage("packages", 10)).toHaveLength(1);
    await index.registry.recordReplication(before + 1, "");
    expect(await index.registry.state()).toMatchObject({ replicated: before + 1, error: "" });
    await index.registry.remove("packages", "t");
    expect(await index.registry.list("packages")).toEqual([]);
  });

  it("creates a repository once, and applies events of two writers in fence order only", async () => {
    await index.createRepository({ mirror: false, mirror_urls: [], gpg_key: "" }, 5);
    await expect(
      index.createRepository({ mirror: false, mirror_urls: [], gpg_key: "" }, 6),
    ).rejects.toMatchObject({
      code: "REPO_ALREADY_EXISTS",
    });
    expect((await index.getRepository())?.createdAt).toBe(5);
    // A writer that lost its lock (fence 1) racing the new holder (fence 2): the first to commit
    // with 2 makes every later write of 1 fail, inside the transaction that would have written.
    const a = await index.appendEvent({ action: "publish" }, 1);
    const b = await index.appendEvent({ action: "publish" }, 1);
    await index.applyEvent(a, 2, async () => ({ changed: true }));
    await expect(index.applyEvent(b, 1, async () => ({ changed: true }))).rejects.toMatchObject({
      code: "LOCK_LOST",
    });
    expect((await index.pendingEvents(10)).map((e) => e.seq)).toEqual([b]);
  });

  it("remembers removed and replaced packages by file name until pruned", async () => {
    const first = await index.appendEvent({ action: "publish" }, 1);
    await index.applyEvent(first, 1, async (tx) => {
      await tx.upsertPackage(record("a", "1".repeat(64)));
      await tx.upsertPackage(record("b", "2".repeat(64)));
      return { changed: true };
    });
    const second = await index.appendEvent({ action: "publish" }, 1);
    await index.applyEvent(second, 1, async (tx) => {
      await tx.deletePackage("a");
      await tx.upsertPackage(record("b", "3".repeat(64)));
      return { changed: true };
    });
    expect(await index.getPackageByFileName("a.rpm")).toBeUndefined();
    expect(await index.getRetiredPackage("a.rpm")).toEqual({ id: "1".repeat(64) });
    expect(await index.getRetiredPackage("b.rpm")).toEqual({ id: "2".repeat(64) });
    await index.pruneRetiredPackages(Math.floor(Date.now() / 1000) + 1);
    expect(await index.getRetiredPackage("a.rpm")).toBeUndefined();
  });
});
