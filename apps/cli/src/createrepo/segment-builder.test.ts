import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { renderRepomd } from "@beskar-yum/repodata";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { tempDir } from "../../../../packages/rpm/src/test-support/fixtures.js";
import { IndexedGzipDocument } from "./metadata-document.js";
import { readOldMetadataFiles } from "./old-metadata-files.js";
import { loadOldRepodata, type OldRepodata } from "./old-repodata.js";
import type { ParsedPackage } from "./parse-package.js";
import { endsSegment, joinAdjacent, SegmentBuilder, type SegmentItem } from "./segment-builder.js";
import { readRepodata } from "./test-support/createrepo-cli.js";

describe("endsSegment", () => {
  it("ends about one segment in 128, by the pkgid alone", () => {
    expect(endsSegment(`${"a".repeat(62)}00`)).toBe(true);
    expect(endsSegment(`${"a".repeat(62)}80`)).toBe(true);
    expect(endsSegment(`${"a".repeat(62)}01`)).toBe(false);
    let ends = 0;
    for (let i = 0; i < 25600; i++) if (endsSegment(i.toString(16).padStart(64, "0"))) ends++;
    expect(ends).toBe(200);
  });
});

describe("joinAdjacent", () => {
  it("returns a view when the parts lie back to back, a copy otherwise", () => {
    const doc = Buffer.from(new TextEncoder().encode("<a/><b/><c/>").buffer);
    const view = joinAdjacent([doc.subarray(0, 4), doc.subarray(4, 8), doc.subarray(8)]);
    expect(view.toString()).toBe("<a/><b/><c/>");
    expect(view.buffer).toBe(doc.buffer);
    const copy = joinAdjacent([doc.subarray(8), doc.subarray(0, 4)]);
    expect(copy.toString()).toBe("<c/><a/>");
    expect(copy.buffer).not.toBe(doc.buffer);
  });
});

describe("SegmentBuilder", () => {
  let tmp: { dir: string; cleanup: () => void };
  beforeEach(() => {
    tmp = tempDir("segments");
  });
  afterEach(() => tmp.cleanup());

  /** Package i: its pkgid ends a segment every fifth package. */
  const item = (i: number, name = `p${i}`): ParsedPackage => {
    const pkgid = `${i.toString(16).padStart(62, "0")}${i % 5 === 4 ? "00" : "01"}`;
    return {
      index: i,
      pkgid,
      primary: Buffer.from(
        `<package type="rpm">\n  <name>${name}</name>\n  <checksum type="sha256" pkgid="YES">${pkgid}</checksum>\n` +
          `  <time file="7" build="1"/>\n  <size package="9" installed="1" archive="1"/>\n` +
          `  <location href="${name}.rpm"/>\n  <format>\n  </format>\n</package>\n`,
      ),
      filelists: Buffer.from(`<package pkgid="${pkgid}" name="${name}" arch="noarch">\n</package>\n`),
      other: Buffer.from(`<package pkgid="${pkgid}" name="${name}" arch="noarch">\n</package>\n`),
    };
  };

  async function write(dir: string, items: SegmentItem[], old?: OldRepodata) {
    mkdirSync(join(dir, "repodata"), { recursive: true });
    const docs = {
      primary: new IndexedGzipDocument({ kind: "primary", checksum: "sha256", timestamp: 1 }),
      filelists: new IndexedGzipDocument({ kind: "filelists", checksum: "sha256", timestamp: 1 }),
      other: new IndexedGzipDocument({ kind: "other", checksum: "sha256", timestamp: 1 }),
    };
    const builder = new SegmentBuilder(docs, old);
    for (const it of items) builder.push(it);
    builder.flush();
    const records = [];
    for (const kind of ["primary", "filelists", "other"] as const) {
      records.push(await docs[kind].write(join(dir, "repodata"), builder.count));
    }
    writeFileSync(join(dir, "repodata", "repomd.xml"), renderRepomd({ revision: 1, records }));
    return { stats: docs.primary.stats, docs: await readRepodata(dir) };
  }

  it("copies every segment of the previous file but the one a new package lands in", async () => {
    const packages = Array.from({ length: 40 }, (_, i) => item(i));
    const first = await write(join(tmp.dir, "a"), packages);
    expect(first.stats).toEqual({ segments: 8, reused: 0 });
    const old = loadOldRepodata(join(tmp.dir, "a"), await readOldMetadataFiles(join(tmp.dir, "a")));
    expect(old.aligned).toBe(true);
    const added = item(1000, "new");
    const sequence: SegmentItem[] = [
      ...packages.slice(0, 22).map((_, i) => ({ old: i })),
      added,
      ...packages.slice(22).map((_, i) => ({ old: 22 + i })),
    ];
    const second = await write(join(tmp.dir, "b"), sequence, old);
    expect(second.stats).toEqual({ segments: 8, reused: 7 });
    const fresh = await write(join(tmp.dir, "c"), [...packages.slice(0, 22), added, ...packages.slice(22)]);
    expect(second.docs.docs).toEqual(fresh.docs.docs);
    expect(second.docs.records).toEqual(fresh.docs.records);
  });
});
