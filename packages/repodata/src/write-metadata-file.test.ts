import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { brotliDecompressSync, createBrotliCompress, gunzipSync } from "node:zlib";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { tempDir } from "../../rpm/src/test-support/fixtures.js";
import { metadataFooter, metadataHeader } from "./metadata-kinds.js";
import { writeMetadataFile } from "./write-metadata-file.js";

const sha256 = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

describe("writeMetadataFile", () => {
  let dir: string;
  let cleanup: () => void;
  beforeEach(() => ({ dir, cleanup } = tempDir("write-md")));
  afterEach(() => cleanup());

  it("streams the parts through gzip and records checksums and sizes of both forms", async () => {
    const fragment = '<package pkgid="x" name="ünï" arch="noarch">\n</package>\n';
    const parts = [
      metadataHeader("other", 3000),
      ...Array.from({ length: 3000 }, () => fragment),
      metadataFooter("other"),
    ];
    const record = await writeMetadataFile({ dir, kind: "other", parts, timestamp: 1700000000 });
    const file = readdirSync(dir);
    expect(file).toEqual([`${record.checksum.value}-other.xml.gz`]);
    const stored = readFileSync(join(dir, file[0]!));
    const open = gunzipSync(stored);
    expect(open.toString("utf8")).toBe(parts.join(""));
    expect(record).toEqual({
      type: "other",
      checksum: { type: "sha256", value: sha256(stored) },
      openChecksum: { type: "sha256", value: sha256(open) },
      location: `repodata/${file[0]}`,
      timestamp: 1700000000,
      size: stored.length,
      openSize: open.length,
    });
  });

  it("accepts async parts and other checksums, and can skip compression", async () => {
    async function* parts() {
      yield "<a>";
      await new Promise((r) => setTimeout(r, 1));
      yield "</a>";
    }
    const record = await writeMetadataFile({
      dir,
      kind: "updateinfo",
      parts: parts(),
      timestamp: 1,
      compress: "none",
      checksumType: "sha512",
    });
    expect(record.location).toMatch(/^repodata\/[0-9a-f]{128}-updateinfo\.xml$/);
    expect(readFileSync(join(dir, record.location.slice("repodata/".length)), "utf8")).toBe("<a></a>");
    expect(record.openChecksum).toBeUndefined();
  });

  it("writes through a compressor the caller brings, from string and byte parts", async () => {
    const parts = ["<a>", Buffer.from("ünï"), new Uint8Array([0x3c, 0x2f, 0x61, 0x3e])];
    const record = await writeMetadataFile({
      dir,
      kind: "other",
      parts,
      timestamp: 2,
      compress: { suffix: ".br", createStream: () => createBrotliCompress() },
    });
    const name = record.location.slice("repodata/".length);
    expect(name).toBe(`${record.checksum.value}-other.xml.br`);
    const stored = readFileSync(join(dir, name));
    const open = brotliDecompressSync(stored);
    expect(open.toString("utf8")).toBe("<a>ünï</a>");
    expect(record.openChecksum).toEqual({ type: "sha256", value: sha256(open) });
    expect(record.openSize).toBe(open.length);
    expect(record.checksum.value).toBe(sha256(stored));
  });

  it("leaves nothing behind when aborted or when the parts fail", async () => {
    const controller = new AbortController();
    async function* slow() {
      yield "<a>";
      controller.abort();
      await new Promise((r) => setTimeout(r, 5));
      yield "</a>";
    }
    await expect(
      writeMetadataFile({ dir, kind: "primary", parts: slow(), timestamp: 1, signal: controller.signal }),
    ).rejects.toThrow();
    async function* failing() {
      yield "<a>";
      throw new Error("source failed");
    }
    await expect(writeMetadataFile({ dir, kind: "primary", parts: failing(), timestamp: 1 })).rejects.toThrow(
      "source failed",
    );
    expect(readdirSync(dir)).toEqual([]);
  });
});
