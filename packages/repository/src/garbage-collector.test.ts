import { mkdirSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FsBlobStore, SqliteRepoIndex } from "@beskar-yum/storage";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { collectBlobGarbage, collectRepodataGarbage } from "./garbage-collector.js";

const old = new Date(Date.now() - 3600_000);

describe("garbage collection", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "bygc-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("keeps current files, starts the grace period of superseded ones, and removes expired leftovers", async () => {
    const repodata = join(dir, "repodata");
    mkdirSync(repodata);
    for (const name of [
      "repomd.xml",
      "cur-primary.xml.gz",
      "prev-primary.xml.gz",
      "older-primary.xml.gz",
      ".primary.1.x.tmp",
      "fresh-primary.xml.gz",
    ]) {
      writeFileSync(join(repodata, name), "x");
      if (name !== "fresh-primary.xml.gz") utimesSync(join(repodata, name), old, old);
    }
    const removed = await collectRepodataGarbage(
      repodata,
      new Set(["prev-primary.xml.gz"]),
      new Set(["cur-primary.xml.gz"]),
      300,
    );
    expect(removed).toBe(2);
    expect(readdirSync(repodata).sort()).toEqual([
      "cur-primary.xml.gz",
      "fresh-primary.xml.gz",
      "prev-primary.xml.gz",
      "repomd.xml",
    ]);
    // The superseded generation now has a fresh mtime: it survives the next run too.
    expect(await collectRepodataGarbage(repodata, new Set(), new Set(["cur-primary.xml.gz"]), 300)).toBe(0);
  });

  it("leaves folders in repodata/ alone instead of failing every publish with EISDIR", async () => {
    const repodata = join(dir, "repodata");
    mkdirSync(join(repodata, "blobs"), { recursive: true });
    writeFileSync(join(repodata, "old-primary.xml.gz"), "x");
    utimesSync(join(repodata, "old-primary.xml.gz"), old, old);
    utimesSync(join(repodata, "blobs"), old, old);
    expect(await collectRepodataGarbage(repodata, new Set(), new Set(), 300)).toBe(1);
    expect(readdirSync(repodata)).toEqual(["blobs"]);
  });

  it("deletes only unreferenced blobs past their grace period, and abandoned uploads", async () => {
    const blobs = new FsBlobStore(join(dir, "blobs"));
    const index = SqliteRepoIndex.open(join(dir, "index.db"), { create: true });
    const digests = ["a", "b", "c"].map((c) => c.repeat(64));
    for (const d of digests) {
      mkdirSync(join(dir, "blobs", "sha256", d.slice(0, 2)), { recursive: true });
      writeFileSync(blobs.pathOf(d), d);
      utimesSync(blobs.pathOf(d), old, old);
    }
    mkdirSync(join(dir, "blobs", "tmp"));
    writeFileSync(join(dir, "blobs", "tmp", "abandoned"), "x");
    utimesSync(join(dir, "blobs", "tmp", "abandoned"), old, old);
    // "a" is referenced by a pending event, "b" by nothing, "c" by nothing but recently released.
    await index.appendEvent(
      { action: "put", digest: digests[0]!, fileName: "a.rpm", uploadTime: 1, verified: false },
      1,
    );
    utimesSync(blobs.pathOf(digests[2]!), new Date(), new Date());
    expect(await collectBlobGarbage(index, blobs, 300)).toBe(1);
    expect(await blobs.has(digests[0]!)).toBe(true);
    expect(await blobs.has(digests[1]!)).toBe(false);
    expect(await blobs.has(digests[2]!)).toBe(true);
    expect(readdirSync(join(dir, "blobs", "tmp"))).toEqual([]);
    index.close();
  });

  it("with a grace period of 0 still keeps an upload between its stored blob and its recorded event, and a temp file being written", async () => {
    const blobs = new FsBlobStore(join(dir, "blobs"));
    const index = SqliteRepoIndex.open(join(dir, "index.db"), { create: true });
    const stored = "d".repeat(64);
    mkdirSync(join(dir, "blobs", "sha256", "dd"), { recursive: true });
    writeFileSync(blobs.pathOf(stored), "rpm bytes");
    mkdirSync(join(dir, "blobs", "tmp"));
    writeFileSync(join(dir, "blobs", "tmp", "streaming"), "half an rpm");
    const aMinuteAgo = new Date(Date.now() - 60_000);
    utimesSync(blobs.pathOf(stored), aMinuteAgo, aMinuteAgo);
    expect(await collectBlobGarbage(index, blobs, 0)).toBe(0);
    expect(await blobs.has(stored)).toBe(true);
    expect(readdirSync(join(dir, "blobs", "tmp"))).toEqual(["streaming"]);
    // Once older than the floor they are garbage (an upload that never recorded its event).
    utimesSync(blobs.pathOf(stored), old, old);
    utimesSync(join(dir, "blobs", "tmp", "streaming"), old, old);
    expect(await collectBlobGarbage(index, blobs, 0)).toBe(1);
    expect(readdirSync(join(dir, "blobs", "tmp"))).toEqual([]);
    index.close();
  });
});
