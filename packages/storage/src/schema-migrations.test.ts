import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isYumError } from "@beskar-yum/errors";
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { RepositoryStorage } from "./repository-storage.js";
import { SCHEMA_VERSION } from "./schema-migrations.js";
import { SqliteRepoIndex } from "./sqlite-repo-index.js";
import { collect } from "./test-support/collect.js";
import { fakeRecord } from "./test-support/fake-record.js";

/** The schema of the first build that shipped (git show c4490b5:packages/storage/src/sqlite-repo-index.ts). */
const firstSchema = readFileSync(new URL("./test-fixtures/schema-c4490b5.sql", import.meta.url), "utf8");

const record = (tag: string, id: string) => fakeRecord(tag, { id, summary: "s", description: "d" });

/** An index as the first build wrote it: its schema, a repository, a published state, a package, an event, a log. */
function writeFirstBuildIndex(path: string): void {
  const db = new Database(path);
  db.pragma("journal_mode = WAL");
  db.exec(firstSchema);
  const old = record("old", "a".repeat(64));
  const { tag, id, fileName, href, primaryXml, filelistsXml, otherXml, ...meta } = old;
  db.prepare("INSERT INTO repository (id, created_at, properties) VALUES (1, 100, ?)").run(
    JSON.stringify({ mirror: false, mirror_urls: [], gpg_key: "" }),
  );
  db.prepare(
    "UPDATE state SET fence = 7, applied_seq = 1, published_seq = 1, dirty = 0, revision = 5, repomd = ?",
  ).run("<repomd><revision>5</revision></repomd>");
  db.prepare(
    "INSERT INTO packages (tag, id, file_name, href, meta, primary_xml, filelists_xml, other_xml) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
  ).run(tag, id, fileName, href, JSON.stringify(meta), primaryXml, filelistsXml, otherXml);
  db.prepare("INSERT INTO events (seq, payload, created_at) VALUES (2, ?, 100)").run(
    JSON.stringify({ action: "delete", tag: "gone" }),
  );
  db.prepare(
    "INSERT INTO logs (level, date, message) VALUES ('INFO', 100, 'created by the first build')",
  ).run();
  db.close();
}

describe("index schema migrations", () => {
  let dir: string;
  let path: string;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), "bymigrate-"));
    path = join(dir, "index.db");
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("opens an index of the first shipped schema: its data kept, every query working", async () => {
    writeFirstBuildIndex(path);
    const index = SqliteRepoIndex.open(path, { create: false });
    try {
      const version = new Database(path, { readonly: true });
      expect(version.pragma("user_version", { simple: true })).toBe(SCHEMA_VERSION);
      version.close();

      // Data of the first build.
      expect(await index.getRepository()).toEqual({
        createdAt: 100,
        properties: { mirror: false, mirror_urls: [], gpg_key: "" },
        deleting: false,
      });
      expect(await index.getState()).toMatchObject({
        appliedSeq: 1,
        publishedSeq: 1,
        revision: 5,
        repomd: "<repomd><revision>5</revision></repomd>",
        repomdAsc: undefined,
      });
      expect((await index.pendingEvents(10)).map((e) => e.seq)).toEqual([2]);
      expect((await index.getPackageByTag("old"))?.primaryXml).toBe("<p old/>");
      expect((await index.getPackageById("a".repeat(64)))?.tag).toBe("old");
      expect((await index.getPackageByFileName("old.rpm"))?.tag).toBe("old");
      expect((await index.listPackages()).map((p) => p.tag)).toEqual(["old"]);
      expect((await index.listPackageSummaries(10)).map((p) => [p.tag, p.name])).toEqual([["old", "old"]]);
      expect(await index.listPackageChecksums()).toEqual([{ href: "Packages/o/old.rpm", tag: "old" }]);
      expect(await index.countPackages()).toBe(1);
      expect(await collect(index.iterateFragments("other"))).toEqual(["<o old/>"]);
      expect((await index.listLogsPage(10)).map((l) => l.message)).toEqual(["created by the first build"]);

      // Every later table and column works.
      expect(await index.listExtraMetadata()).toEqual([]);
      expect((await index.getSyncState()).syncing).toBe(false);
      expect(await index.beginSync(200)).toBe(true);
      await index.endSync(201, "");
      expect(await index.getRetiredPackage("x.rpm")).toBeUndefined();
      expect(await index.registry.state()).toEqual({ generation: 1, replicated: 0, error: "" });
      await index.registry.put({
        kind: "packages",
        tag: "old",
        layerDigest: "sha256:a",
        manifestDigest: "sha256:m",
      });
      expect(await index.registry.list("packages")).toHaveLength(1);
      await index.applyEvent(2, 8, async (tx) => {
        await tx.deletePackage("old");
        await tx.upsertPackage(record("new", "b".repeat(64)));
        await tx.upsertExtraMetadata({
          dataType: "group",
          fileName: "comps.xml",
          digest: "c".repeat(64),
          size: 1,
          timestamp: 1,
        });
        return { changed: true };
      });
      expect(await index.getRetiredPackage("old.rpm")).toEqual({ id: "a".repeat(64) });
      await index.recordPublish(8, { seq: 2, revision: 6, repomd: "<repomd>6</repomd>" });
      expect(await index.retiredRepomdNaming("revision", 0)).toHaveLength(1);
      await index.stagePackages(9, [record("staged", "d".repeat(64))]);
      await index.commitMirrorGeneration(9, {
        deleteTags: ["new"],
        revision: 7,
        repomd: "<r/>",
        repomdAsc: "sig",
      });
      expect((await index.getState()).repomdAsc).toBe("sig");
      expect((await index.listPackages()).map((p) => p.tag)).toEqual(["staged"]);
      expect(await index.referencedDigests()).toEqual(new Set(["d".repeat(64), "c".repeat(64)]));
      await index.addLog("INFO", "after the upgrade", 300);
      expect((await index.listLogs()).map((l) => l.message)).toEqual([
        "created by the first build",
        "after the upgrade",
      ]);
    } finally {
      index.close();
    }
  });

  it("migrates once: a second open (another process) finds the current version and changes nothing", async () => {
    writeFirstBuildIndex(path);
    SqliteRepoIndex.open(path, { create: false }).close();
    const again = SqliteRepoIndex.open(path, { create: false });
    expect((await again.getPackageByTag("old"))?.tag).toBe("old");
    again.close();
  });

  it("creates new indexes at the current version", async () => {
    SqliteRepoIndex.open(path, { create: true }).close();
    const db = new Database(path, { readonly: true });
    expect(db.pragma("user_version", { simple: true })).toBe(SCHEMA_VERSION);
    db.close();
  });

  it("refuses an index written by a newer build, with a clear error, and leaves it untouched", async () => {
    SqliteRepoIndex.open(path, { create: true }).close();
    const db = new Database(path);
    db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    db.close();
    let error: unknown;
    try {
      SqliteRepoIndex.open(path, { create: false });
    } catch (err) {
      error = err;
    }
    expect(isYumError(error, "STORAGE_VERSION_UNSUPPORTED")).toBe(true);
    expect((error as Error).message).toContain(
      `schema version ${SCHEMA_VERSION + 1}, newer than this build knows`,
    );
    expect((error as Error).message).toContain(path);
    // Through the storage: the error says what it is, not "repository not found".
    const storage = new RepositoryStorage(dir);
    const repository = "artifacts/yum/newer";
    await storage.createIndex(repository);
    storage.close();
    const newer = new Database(storage.paths(repository).index);
    newer.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    newer.close();
    const reopened = new RepositoryStorage(dir);
    await expect(reopened.openIndex(repository)).rejects.toThrow(/newer than this build knows/);
    reopened.close();
  });
});
