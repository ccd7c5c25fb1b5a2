import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync, gzipSync } from "node:zlib";
import { type PackageTransform, parseRepomd, type Repomd, type RepomdRecord } from "@beskar-yum/repodata";
import { FsBlobStore } from "@beskar-yum/storage";
import { afterEach, describe, expect, it } from "vitest";
import { packageUrl } from "./package-url.js";
import { rewrittenPrimary } from "./rewritten-primary.js";
import { dropXmlBase, rewrittenRepomd } from "./rewritten-repomd.js";

const rocky = new URL("../../../test/fixtures/rocky-8.3-ha-debug/repodata/", import.meta.url).pathname;
const rockyRepomd = parseRepomd(readFileSync(join(rocky, "repomd.xml"), "utf8"));
const rockyPrimary = gunzipSync(
  readFileSync(join(rocky, readdirSync(rocky).find((f) => f.endsWith("-primary.xml.gz"))!)),
);
const sha256 = (b: Buffer) => createHash("sha256").update(b).digest("hex");

/** Rocky's primary.xml with every other package under `base`. */
function withBases(base: string, href = (h: string) => h): Buffer {
  let n = 0;
  const text = rockyPrimary
    .toString("utf8")
    .replace(/<location href="([^"]+)"\/>/g, (tag, h: string) =>
      n++ % 2 === 0 ? `<location xml:base="${base}" href="${href(h)}"/>` : tag,
    );
  return Buffer.from(text);
}

const compressors: Record<string, (b: Buffer) => Buffer> = {
  gz: (b) => gzipSync(b),
  xz: (b) => execFileSync("xz", ["-c"], { input: b }),
  zst: (b) => execFileSync("zstd", ["-c", "-q"], { input: b }),
};

let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

/** A blob store holding `open` (compressed by `ext`) as upstream's primary, and Rocky's repomd.xml pointing at it. */
function upstream(
  open: Buffer,
  ext = "gz",
): { blobs: FsBlobStore; repomd: Repomd; digests: Map<RepomdRecord, string> } {
  dir ??= mkdtempSync(join(tmpdir(), "rewritten-repomd-"));
  const blobs = new FsBlobStore(join(dir, ext));
  const stored = compressors[ext]!(open);
  blobs.putSync(sha256(stored), stored);
  const records = rockyRepomd.records.map((r) =>
    r.type === "primary"
      ? {
          ...r,
          checksum: { type: "sha256", value: sha256(stored) },
          openChecksum: { type: "sha256", value: sha256(open) },
          location: `repodata/${sha256(stored)}-primary.xml.${ext}`,
          size: stored.length,
          openSize: open.length,
        }
      : r,
  );
  const digests = new Map(records.map((r) => [r, r.checksum.value]));
  return { blobs, repomd: { ...rockyRepomd, records }, digests };
}

describe("rewrittenRepomd", () => {
  it("serves upstream's primary.xml without xml:base, byte for byte otherwise, from any compression, deterministically", async () => {
    const open = withBases("https://cdn.example/tree/");
    const digests = new Set<string>();
    for (const ext of ["gz", "xz", "zst", "gz"]) {
      const source = upstream(open, ext);
      const result = await rewrittenRepomd({ ...source, transform: dropXmlBase });
      const primary = result.repomd.records[0]!;
      const digest = result.digests.get(primary)!;
      digests.add(digest);
      const stored = readFileSync(source.blobs.pathOf(digest));
      expect(primary).toEqual({
        type: "primary",
        checksum: { type: "sha256", value: sha256(stored) },
        openChecksum: { type: "sha256", value: sha256(rockyPrimary) },
        location: `repodata/${digest}-primary.xml.gz`,
        timestamp: rockyRepomd.records[0]!.timestamp,
        size: stored.length,
        openSize: rockyPrimary.length,
      });
      expect(gunzipSync(stored).equals(rockyPrimary)).toBe(true);
      // gzip header: no mtime, no file name, so the same input always gives the same bytes.
      expect([...stored.subarray(0, 8)]).toEqual([0x1f, 0x8b, 8, 0, 0, 0, 0, 0]);
      expect(result.repomd.records.map((r) => r.type)).toEqual(["primary", "filelists", "other"]);
      expect(result.dropped).toEqual(["primary_db", "filelists_db", "other_db"]);
      // filelists and other are upstream's, as they were.
      expect(result.repomd.records[1]).toBe(source.repomd.records[1]);
      expect(result.summary).toEqual({ declared: 27, kept: 27, dropped: 0, rewritten: 14 });
    }
    expect(digests.size).toBe(1);
  });

  it("still checks upstream's open-checksum", async () => {
    const source = upstream(withBases("https://cdn.example/"));
    source.repomd.records[0]!.openChecksum = { type: "sha256", value: "0".repeat(64) };
    await expect(rewrittenRepomd({ ...source, transform: dropXmlBase })).rejects.toMatchObject({
      code: "UPSTREAM_CHECKSUM_MISMATCH",
    });
  });

  it("refuses bases that are not http(s) or carry credentials, and unsafe hrefs under a base", async () => {
    const cases: [Buffer, RegExp][] = [
      [withBases("file:///etc/"), /is not http\(s\)/],
      [withBases("https://user:pw@cdn.example/"), /carries credentials/],
      [withBases("https://cdn.example/", (h) => `../../${h}`), /refusing location href/],
      [withBases("https://cdn.example/", () => "https://evil.example/x.rpm"), /refusing location href/],
    ];
    for (const [open, message] of cases) {
      const source = upstream(open);
      await expect(rewrittenRepomd({ ...source, transform: dropXmlBase })).rejects.toMatchObject({
        code: "UPSTREAM_BAD_HREF",
        message: expect.stringMatching(message),
      });
    }
  });
});

describe("rewrittenPrimary", () => {
  it("drops packages a filter refuses, writing the new count (a second pass)", async () => {
    const source = upstream(rockyPrimary);
    const primary = source.repomd.records[0]!;
    const debugsource: PackageTransform = (p) => (p.name.endsWith("-debugsource") ? "keep" : "drop");
    const { record, digest, summary } = await rewrittenPrimary({
      open: async function* () {
        yield gunzipSync(readFileSync(source.blobs.pathOf(source.digests.get(primary)!)));
      },
      transform: debugsource,
      blobs: source.blobs,
      timestamp: 1,
    });
    expect(summary).toMatchObject({ declared: 27, kept: 6, dropped: 21 });
    const text = gunzipSync(readFileSync(source.blobs.pathOf(digest))).toString("utf8");
    expect(text).toContain('packages="6"');
    expect(text.match(/<package /g)).toHaveLength(6);
    expect(record.openSize).toBe(Buffer.byteLength(text));
    // The blobs of the first pass are not left behind.
    expect(readdirSync(join(source.blobs.root, "tmp"))).toEqual([]);
  });
});

describe("packageUrl", () => {
  it("resolves href under the base as a directory, as librepo does", () => {
    expect(packageUrl("https://cdn.example/a/b", "Packages/x.rpm", "t").href).toBe(
      "https://cdn.example/a/b/Packages/x.rpm",
    );
    expect(packageUrl("http://cdn.example:8080/a/?q=1#f", "x.rpm", "t").href).toBe(
      "http://cdn.example:8080/a/x.rpm",
    );
  });
});
