import { mkdtempSync, readFileSync, rmSync } from "node:fs";
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
});
