import { createHash } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { FsBlobStore } from "./blob-store.js";

describe("FsBlobStore", () => {
  let dir: string;
  let store: FsBlobStore;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "byblob-"));
    store = new FsBlobStore(dir);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("stores content under its sha256 and keeps the first copy of identical content", async () => {
    const blob = await store.ingest(Readable.from([Buffer.from("hello "), Buffer.from("world")]));
    expect(blob.digest).toBe("b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9");
    expect(blob.size).toBe(11);
    const path = await store.commit(blob);
    expect(path).toBe(join(dir, "sha256", "b9", blob.digest));
    expect(readFileSync(path, "utf8")).toBe("hello world");
    const again = await store.ingest(Readable.from([Buffer.from("hello world")]));
    await store.commit(again);
    expect(await store.has(blob.digest)).toBe(true);
  });

  it("refuses a body over the size limit and leaves no file behind", async () => {
    await expect(
      store.ingest(Readable.from([Buffer.alloc(10), Buffer.alloc(10)]), { maxBytes: 15 }),
    ).rejects.toMatchObject({
      code: "PAYLOAD_TOO_LARGE",
    });
    const { readdirSync } = await import("node:fs");
    expect(readdirSync(join(dir, "tmp"))).toEqual([]);
  });

  it("rejects malformed digests instead of building paths from them", () => {
    expect(() => store.pathOf("../../etc/passwd")).toThrow(/invalid sha256 digest/);
  });

  it("lists every stored digest once, and nothing else under the store", async () => {
    expect(await store.list()).toEqual(new Set());
    const digests: string[] = [];
    for (const text of ["a", "b", "c"]) {
      const blob = await store.ingest(Readable.from([Buffer.from(text)]));
      await store.commit(blob, { durable: false });
      digests.push(blob.digest);
    }
    // A temporary file and a stray name are not blobs.
    await store.ingest(Readable.from([Buffer.from("uncommitted")]));
    writeFileSync(join(dir, "sha256", digests[0]!.slice(0, 2), ".tmp-1-abc"), "x");
    expect(await store.list()).toEqual(new Set(digests));
  });

  it("makes blobs durable one fsync each or with one syncfs, and falls back when `sync` is missing", async () => {
    const digests: string[] = [];
    for (let i = 0; i < 5; i++) {
      const blob = await store.ingest(Readable.from([Buffer.from(`blob ${i}`)]), { durable: false });
      await store.commit(blob, { durable: false });
      digests.push(blob.digest);
    }
    await store.syncMany([]);
    await store.syncMany(digests);
    await store.syncMany(digests, { syncfsFrom: 1 });
    const path = process.env.PATH;
    process.env.PATH = mkdtempSync(join(tmpdir(), "bynopath-"));
    try {
      await store.syncMany(digests, { syncfsFrom: 1 });
    } finally {
      process.env.PATH = path;
    }
    // A blob that is not there is an error, not silently skipped.
    await expect(store.syncMany([..."0123".split("").map((c) => c.repeat(64))])).rejects.toMatchObject({
      code: "ENOENT",
    });
  });

  it("stores verified bytes with synchronous calls, leaving no temporary file", async () => {
    const data = Buffer.from("bytes a thread verified");
    const digest = createHash("sha256").update(data).digest("hex");
    store.putSync(digest, data);
    expect(readFileSync(store.pathOf(digest)).equals(data)).toBe(true);
    expect(await store.list()).toEqual(new Set([digest]));
    expect(readdirSync(join(dir, "tmp"))).toEqual([]);
  });
});
