import { execFileSync } from "node:child_process";
import { cpSync, createReadStream, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync, gzipSync } from "node:zlib";
import { isYumError } from "@beskar-yum/errors";
import { xzSync } from "node-liblzma";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compress as zstdCompress } from "zstd-napi";
import { ROCKY_PACKAGES, tempDir } from "../../rpm/src/test-support/fixtures.js";
import { buildRpmbuildCorpus } from "../../rpm/src/test-support/rpmbuild-corpus.js";
import { runTool } from "../../rpm/src/test-support/run-tool.js";
import { decompressMetadataStream } from "./metadata-decompress.js";
import { readFilelists, readOther, readPrimary } from "./metadata-readers.js";
import { dependencyKinds, type RecordFile } from "./metadata-records.js";
import { parseMetadata } from "./test-support/createrepo.js";

type Obj = Record<string, unknown>;
const text = (v: unknown): string =>
  typeof v === "string" ? v : (((v as Obj | undefined)?.["#text"] as string) ?? "");
const attrs = (v: unknown) => (v ?? {}) as Record<string, string>;
const version = (v: unknown) => ({ epoch: attrs(v)["@epoch"], ver: attrs(v)["@ver"], rel: attrs(v)["@rel"] });
const files = (v: unknown): RecordFile[] =>
  ((v as unknown[] | undefined) ?? []).map((f) => ({
    path: text(f),
    type: (attrs(typeof f === "string" ? {} : f)["@type"] ?? "file") as RecordFile["type"],
  }));

/** createrepo_c's primary package, parsed by fast-xml-parser, in readPrimary's shape. */
function expectedPrimary(p: Obj) {
  const format = p.format as Obj;
  const a = (k: string) => attrs(p[k]);
  const deps = Object.fromEntries(
    dependencyKinds.map((k) => [
      k,
      (((format[`rpm:${k}`] as Obj | undefined)?.["rpm:entry"] as Obj[] | undefined) ?? []).map((e) => {
        const d: Obj = {};
        for (const [key, value] of Object.entries(e))
          d[key.slice(1)] = key === "@pre" ? value === "1" : value;
        return d;
      }),
    ]),
  );
  return {
    type: attrs(p)["@type"],
    name: p.name,
    arch: p.arch,
    version: version(p.version),
    pkgid: text(p.checksum),
    checksumType: a("checksum")["@type"],
    summary: text(p.summary),
    description: text(p.description),
    packager: text(p.packager),
    url: text(p.url),
    time: { file: Number(a("time")["@file"]), build: Number(a("time")["@build"]) },
    size: {
      package: Number(a("size")["@package"]),
      installed: Number(a("size")["@installed"]),
      archive: Number(a("size")["@archive"]),
    },
    location: { href: a("location")["@href"] },
    license: text(format["rpm:license"]),
    vendor: text(format["rpm:vendor"]),
    group: text(format["rpm:group"]),
    buildhost: text(format["rpm:buildhost"]),
    sourcerpm: text(format["rpm:sourcerpm"]),
    headerRange: {
      start: Number(attrs(format["rpm:header-range"])["@start"]),
      end: Number(attrs(format["rpm:header-range"])["@end"]),
    },
    dependencies: deps,
    files: files(format.file),
  };
}

/** fast-xml-parser leaves numeric character references as written; saxes decodes them. */
function decodeRefs<T>(v: T): T {
  if (typeof v === "string") {
    return v
      .replace(/&#x([0-9a-f]+);/gi, (_, h: string) => String.fromCodePoint(Number.parseInt(h, 16)))
      .replace(/&#(\d+);/g, (_, d: string) => String.fromCodePoint(Number(d))) as T;
  }
  if (Array.isArray(v)) return v.map(decodeRefs) as T;
  if (v && typeof v === "object") {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, decodeRefs(x)])) as T;
  }
  return v;
}

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

describe("readPrimary, readFilelists, readOther", () => {
  let root: string;
  let cleanup: () => void;
  /** Per compression: the directory createrepo_c wrote (zstd: recompressed from gz). */
  const outputs: Record<string, string> = {};
  let plain: Record<"primary" | "filelists" | "other", string>;

  beforeAll(() => {
    const tmp = tempDir("metadata-readers");
    cleanup = tmp.cleanup;
    root = tmp.dir;
    const { dir } = buildRpmbuildCorpus(join(root, "corpus"));
    mkdirSync(join(dir, "rocky"));
    cpSync(ROCKY_PACKAGES, join(dir, "rocky"), { recursive: true });
    for (const type of ["gz", "xz", "bz2"]) {
      const out = join(root, type);
      mkdirSync(out);
      runTool("createrepo_c", [
        "--no-database",
        "--quiet",
        `--general-compress-type=${type}`,
        "-o",
        out,
        dir,
      ]);
      outputs[type] = join(out, "repodata");
    }
    const find = (d: string, kind: string) =>
      join(d, readdirSync(d).find((f) => f.includes(`-${kind}.xml`))!);
    const open = (kind: string) => gunzipSync(readFileSync(find(outputs.gz!, kind)));
    plain = { primary: "", filelists: "", other: "" };
    const zst = join(root, "zstd");
    mkdirSync(zst);
    outputs.zstd = zst;
    for (const kind of ["primary", "filelists", "other"] as const) {
      const bytes = open(kind);
      plain[kind] = bytes.toString("utf8");
      writeFileSync(join(zst, `x-${kind}.xml.zst`), zstdCompress(bytes));
    }
  }, 120_000);
  afterAll(() => cleanup());

  const file = (type: string, kind: string) => {
    const d = outputs[type]!;
    return join(d, readdirSync(d).find((f) => f.includes(`-${kind}.xml`))!);
  };

  for (const type of ["gz", "xz", "zstd", "bz2"]) {
    it(`read createrepo_c's ${type} metadata field for field as fast-xml-parser reads it`, async () => {
      let announced = -1;
      const primary = await collect(readPrimary(file(type, "primary"), { onCount: (n) => (announced = n) }));
      const theirs = [...parseMetadata(plain.primary).packages.values()];
      expect(primary.length).toBeGreaterThan(20);
      expect(announced).toBe(primary.length);
      expect(primary).toEqual(decodeRefs(theirs.map(expectedPrimary)));

      const filelists = await collect(readFilelists(file(type, "filelists")));
      expect(filelists).toEqual(
        decodeRefs(
          [...parseMetadata(plain.filelists).packages.values()].map((p) => ({
            pkgid: attrs(p)["@pkgid"],
            name: attrs(p)["@name"],
            arch: attrs(p)["@arch"],
            version: version(p.version),
            files: files(p.file),
          })),
        ),
      );
      expect(filelists.some((p) => p.files.some((f) => f.type === "ghost"))).toBe(true);

      const other = await collect(readOther(createReadStream(file(type, "other"))));
      expect(other).toEqual(
        decodeRefs(
          [...parseMetadata(plain.other).packages.values()].map((p) => ({
            pkgid: attrs(p)["@pkgid"],
            name: attrs(p)["@name"],
            arch: attrs(p)["@arch"],
            version: version(p.version),
            changelogs: ((p.changelog as Obj[] | undefined) ?? []).map((c) => ({
              author: attrs(c)["@author"],
              date: Number(attrs(c)["@date"]),
              text: text(c),
            })),
          })),
        ),
      );
      expect(other.some((p) => p.changelogs.length > 0)).toBe(true);
    });
  }

  it("refuse a DOCTYPE (so no entity can be declared)", async () => {
    const bomb = `<?xml version="1.0"?><!DOCTYPE m [<!ENTITY a "aaaaaaaaaa">]><metadata packages="1"><package type="rpm"><name>&a;</name></package></metadata>`;
    const err = await collect(readPrimary([Buffer.from(bomb)])).catch((e: unknown) => e);
    expect(isYumError(err, "REPODATA_INVALID")).toBe(true);
    expect((err as Error).message).toMatch(/DOCTYPE/);
  });

  it("stop past maxBytes of decompressed output (gz, zstd, xz), without inflating the rest", async () => {
    const zeros = Buffer.alloc(64 * 1024 * 1024);
    for (const [name, bomb] of [
      ["bomb.gz", gzipSync(zeros)],
      ["bomb.zst", zstdCompress(zeros)],
      ["bomb.xz", xzSync(zeros)],
    ] as const) {
      const chunks: number[] = [];
      const err = await (async () => {
        for await (const c of decompressMetadataStream([bomb], { maxBytes: 1024 * 1024, name }))
          chunks.push(c.length);
      })().catch((e: unknown) => e);
      expect(isYumError(err, "REPODATA_INVALID"), name).toBe(true);
      expect((err as Error).message).toContain(`${name}: more than 1048576 bytes`);
      // Never more than one decoder step past the cap.
      expect(chunks.reduce((a, b) => a + b, 0)).toBeLessThan(2 * 1024 * 1024);
    }
  });

  it("report truncated or corrupt input and the wrong document", async () => {
    const gz = readFileSync(file("gz", "filelists"));
    const truncated = await collect(readFilelists([gz.subarray(0, gz.length >> 1)])).catch((e: unknown) => e);
    expect(isYumError(truncated, "REPODATA_INVALID")).toBe(true);
    const wrong = await collect(readOther(file("gz", "filelists"))).catch((e: unknown) => e);
    expect((wrong as Error).message).toMatch(/<otherdata> expected, got <filelists>/);
    const bz = readFileSync(file("bz2", "other"));
    bz[bz.length >> 1] = bz[bz.length >> 1]! ^ 0xff;
    const corrupt = await collect(readOther([bz])).catch((e: unknown) => e);
    expect(isYumError(corrupt, "REPODATA_INVALID")).toBe(true);
  });

  it("decode bz2 a block at a time, across concatenated streams", async () => {
    const line = (i: number) => `  <file>/usr/share/doc/package-${i % 977}/file-${i}.txt</file>\n`;
    const plainText = Buffer.from(Array.from({ length: 200_000 }, (_, i) => line(i)).join(""));
    const bz = (b: Buffer) => execFileSync("bzip2", ["-1", "-c"], { input: b, maxBuffer: 1 << 30 });
    const half = plainText.length >> 1;
    const joined = Buffer.concat([bz(plainText.subarray(0, half)), bz(plainText.subarray(half))]);
    const chunks = await collect(decompressMetadataStream([joined]));
    expect(Buffer.concat(chunks).equals(plainText)).toBe(true);
    // bzip2 -1: 100 kB blocks, each yielded on its own.
    expect(chunks.length).toBeGreaterThan(plainText.length / 110_000);
    expect(Math.max(...chunks.map((c) => c.length))).toBeLessThanOrEqual(110_000);
  });

  it("split multi-byte characters across chunks correctly", async () => {
    const xml = Buffer.from(
      `<otherdata packages="1"><package pkgid="ab" name="ü" arch="noarch"><version epoch="0" ver="1" rel="1"/><changelog author="Zoë &lt;z@x&gt;" date="5">- naïve ✓</changelog></package></otherdata>`,
    );
    const chunks = [...xml].map((b) => Buffer.from([b]));
    const [p] = await collect(readOther(chunks));
    expect(p?.changelogs).toEqual([{ author: "Zoë <z@x>", date: 5, text: "- naïve ✓" }]);
    expect(p?.name).toBe("ü");
  });
});
