import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { isYumError, type YumError } from "@beskar-yum/errors";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseRpm, readRpm } from "./read-rpm.js";
import { RpmType } from "./tags.js";
import { craftedCorpus } from "./test-support/crafted-corpus.js";
import {
  basicMain,
  craftRpm,
  headerOffsets,
  patchIndex,
  withoutDigests,
} from "./test-support/crafted-rpm.js";
import { ROCKY_PACKAGES, rockyRpms, seededRandom, tempDir } from "./test-support/fixtures.js";
import { buildRpmbuildCorpus } from "./test-support/rpmbuild-corpus.js";

const ROCKY_FILE = "booth-core-debuginfo-1.0-6.ac1d34c.git.el8.2.x86_64.rpm";
const rocky = readFileSync(join(ROCKY_PACKAGES, ROCKY_FILE));

/** The YumError reading `path` rejects with (fails the test for any other outcome). */
async function readFailure(path: string): Promise<YumError> {
  try {
    await readRpm(path);
  } catch (err) {
    if (isYumError(err)) return err;
    throw err;
  }
  throw new Error(`expected reading ${path} to fail`);
}

/** The YumError `fn` throws (fails the test for any other outcome). */
function yumErrorOf(fn: () => unknown): YumError {
  try {
    fn();
  } catch (err) {
    if (isYumError(err)) return err;
    throw err;
  }
  throw new Error("expected a YumError, parsing succeeded");
}

describe("parseRpm on corrupt input", () => {
  let dir: string;
  let cleanup: () => void;
  beforeAll(() => ({ dir, cleanup } = tempDir("rpm-corrupt")));
  afterAll(() => cleanup());

  it("rejects a text file as not an RPM, naming the magic it found", async () => {
    const path = join(dir, "foo.rpm");
    writeFileSync(path, '<?xml version="1.0"?>\n<not-an-rpm/>\n');
    const err = await readFailure(path);
    expect(err.code).toBe("RPM_BAD_MAGIC");
    expect(err.message).toBe("foo.rpm: not an RPM: lead magic at offset 0 is 3c3f786d, expected edabeedb");
  });

  it("rejects an empty file and a stub as truncated", async () => {
    writeFileSync(join(dir, "empty.rpm"), "");
    await expect(readRpm(join(dir, "empty.rpm"))).rejects.toMatchObject({ code: "RPM_TRUNCATED" });
    expect(yumErrorOf(() => parseRpm(rocky.subarray(0, 3))).code).toBe("RPM_TRUNCATED");
  });

  it("reports truncation at every stage, reading the file or parsing bytes", async () => {
    const { mainStart, mainEnd } = headerOffsets(rocky);
    const cuts = [4, 50, 95, 96, 100, 111, 112, 500, mainStart - 1, mainStart, mainStart + 8, mainStart + 15];
    cuts.push(
      mainStart + 16,
      mainStart + 1000,
      mainEnd - 1,
      mainEnd,
      mainEnd + 1,
      mainEnd + 5000,
      rocky.length - 1,
    );
    for (const cut of cuts) {
      const path = join(dir, `cut-${cut}.rpm`);
      writeFileSync(path, rocky.subarray(0, cut));
      const fromFile = await readFailure(path);
      expect([cut, fromFile.code]).toEqual([cut, "RPM_TRUNCATED"]);
      expect(fromFile.message).toMatch(/^cut-\d+\.rpm: truncated RPM: /);
      expect(yumErrorOf(() => parseRpm(rocky.subarray(0, cut))).code).toBe("RPM_TRUNCATED");
    }
    const last = await readFailure(join(dir, `cut-${rocky.length - 1}.rpm`));
    expect(last.message).toContain(`file is ${rocky.length - 1} bytes`);
    expect(last.message).toContain(`(file size ${rocky.length})`);
  });

  it("detects a corrupted main header with the SHA256 digest", () => {
    const { mainEnd } = headerOffsets(rocky);
    const bad = Buffer.from(rocky);
    bad.writeUInt8(bad.readUInt8(mainEnd - 100) ^ 0x20, mainEnd - 100);
    const err = yumErrorOf(() => parseRpm(bad, { fileName: ROCKY_FILE }));
    expect(err.code).toBe("RPM_DIGEST_MISMATCH");
    expect(err.message).toMatch(
      /main header SHA256 digest mismatch: signature tag 273 \(SHA256\) at offset \d+ expects [0-9a-f]{64}, bytes 4504\.\.10632 hash to [0-9a-f]{64}/,
    );
  });

  it("checks the SHA1 digest when it is the only one", () => {
    const good = craftRpm({
      main: basicMain("sha1only"),
      bare: true,
      signature: [{ tag: 269, type: RpmType.STRING, value: "0".repeat(40) }],
    });
    expect(yumErrorOf(() => parseRpm(good)).message).toContain("SHA1 digest mismatch");
  });

  it("rejects bad magic, versions and signature types in lead and headers", () => {
    const { mainStart } = headerOffsets(rocky);
    const badMain = Buffer.from(rocky);
    badMain[mainStart] = 0;
    expect(yumErrorOf(() => parseRpm(badMain)).message).toBe(
      `main header magic at offset ${mainStart} is 00ade801, expected 8eade801`,
    );
    const badSig = Buffer.from(rocky);
    badSig[97] = 0;
    expect(yumErrorOf(() => parseRpm(badSig)).code).toBe("RPM_BAD_MAGIC");
    const badVersion = Buffer.from(rocky);
    badVersion[4] = 9;
    expect(yumErrorOf(() => parseRpm(badVersion)).message).toContain("unsupported RPM lead version 9.0");
    const badSigType = Buffer.from(rocky);
    badSigType.writeUInt16BE(1, 78);
    expect(yumErrorOf(() => parseRpm(badSigType)).message).toContain(
      "illegal lead signature type 1 at offset 78",
    );
  });

  it("rejects impossible header structures with the entry, tag and offset", () => {
    const base = craftRpm({ main: basicMain("structure"), bare: true });
    const { mainStart } = headerOffsets(base);
    const cases: [Buffer, RegExp][] = [
      [
        patchIndex(base, mainStart, 1000, 2, 1 << 30),
        /tag 1000 \(NAME\)\): data offset 1073741824 outside data/,
      ],
      [
        patchIndex(base, mainStart, 1047, 3, 50000),
        /tag 1047 \(PROVIDENAME\)\): count 50000 out of range 1\.\.\d+/,
      ],
      [
        patchIndex(base, mainStart, 1047, 3, 30),
        /tag 1047 \(PROVIDENAME\)\): 30 STRING_ARRAY value\(s\) at data offset \d+ run past the end/,
      ],
      [
        patchIndex(base, mainStart, 1000, 1, RpmType.INT32),
        /tag 1000 \(NAME\)\): data offset \d+ not aligned for INT32|type INT32, expected STRING/,
      ],
      [patchIndex(base, mainStart, 1006, 1, 42), /invalid type 42/],
      [patchIndex(base, mainStart, 1006, 3, 0), /count 0 out of range/],
      [patchIndex(base, mainStart, 1006, 2, 2), /not aligned for INT32/],
      [patchIndex(base, mainStart, 1006, 0, 99), /tag number below 100/],
      [
        patchIndex(base, mainStart, 63, 2, 4),
        /region trailer at offset \d+: tag|overlaps the region trailer/,
      ],
    ];
    for (const [bytes, message] of cases) {
      const err = yumErrorOf(() => parseRpm(bytes));
      expect(err.code).toBe("RPM_BAD_HEADER");
      expect(err.message).toMatch(message);
      expect(err.message).toMatch(/^main header at offset \d+: /);
    }
    const hugeIndex = Buffer.from(base);
    hugeIndex.writeUInt32BE(0x10000, mainStart + 8);
    expect(yumErrorOf(() => parseRpm(hugeIndex)).message).toMatch(
      /index count 65536 .* exceeds the limit of 65535/,
    );
    const hugeSig = Buffer.from(base);
    hugeSig.writeUInt32BE(33, 96 + 8);
    expect(yumErrorOf(() => parseRpm(hugeSig)).message).toMatch(
      /signature header at offset 96: index count 33/,
    );
    const longData = Buffer.from(base);
    longData.writeUInt32BE(100_000_000, mainStart + 12);
    expect(yumErrorOf(() => parseRpm(longData)).code).toBe("RPM_TRUNCATED");
  });

  it("names missing and mistyped tags", () => {
    const noName = craftRpm({ main: basicMain("x").filter((e) => e.tag !== 1000) });
    const missing = yumErrorOf(() => parseRpm(noName, { fileName: "x.rpm" }));
    expect(missing.code).toBe("RPM_MISSING_TAG");
    expect(missing.message).toBe(
      `x.rpm: main header at offset ${headerOffsets(noName).mainStart} has no tag 1000 (NAME)`,
    );
    const intName = craftRpm({ main: basicMain("x", [{ tag: 1000, type: RpmType.INT32, value: [7] }]) });
    expect(yumErrorOf(() => parseRpm(intName)).message).toMatch(
      /tag 1000 \(NAME\)\): type INT32, expected STRING/,
    );
    const badSize = craftRpm({
      main: basicMain("x"),
      bare: true,
      signature: [{ tag: 1000, type: RpmType.INT16, value: [7] }],
    });
    expect(yumErrorOf(() => parseRpm(badSize)).message).toMatch(
      /tag 1000 \(SIZE\) has type INT16, expected INT32/,
    );
    const dup = craftRpm({ main: basicMain("x", [{ tag: 257, type: RpmType.INT32, value: [7] }]) });
    expect(yumErrorOf(() => parseRpm(dup)).message).toMatch(/tag 257 belongs in the signature header/);
  });

  it("rejects inconsistent file lists and control characters createrepo_c refuses", () => {
    const files = [
      { tag: 1030, type: RpmType.INT16, value: [0o100644] },
      { tag: 1037, type: RpmType.INT32, value: [0] },
      { tag: 1116, type: RpmType.INT32, value: [3] },
      { tag: 1117, type: RpmType.STRING_ARRAY, value: ["a"] },
      { tag: 1118, type: RpmType.STRING_ARRAY, value: ["/x/"] },
    ];
    const badIndex = craftRpm({ main: basicMain("x", files) });
    expect(yumErrorOf(() => parseRpm(badIndex)).message).toMatch(
      /tag 1116 \(DIRINDEXES\): file 0 refers to directory 3, only 1 exist/,
    );
    const control = craftRpm({
      main: basicMain("x", [{ tag: 1004, type: RpmType.I18NSTRING, value: ["bell\x07"] }]),
    });
    const err = yumErrorOf(() => parseRpm(control));
    expect(err.code).toBe("RPM_BAD_HEADER");
    expect(err.message).toContain(
      "tag 1004 (SUMMARY) contains control character 0x07 at position 4; createrepo_c refuses",
    );
  });
});

describe("parseRpm under random mutation", () => {
  let bases: { name: string; bytes: Buffer; headerEnd: number }[] = [];
  let cleanup: () => void;
  beforeAll(() => {
    const tmp = tempDir("rpm-fuzz");
    cleanup = tmp.cleanup;
    const corpus = buildRpmbuildCorpus(tmp.dir);
    const real = [
      ...rockyRpms()
        .slice(0, 3)
        .map((f) => [f, readFileSync(join(ROCKY_PACKAGES, f))] as const),
      ...corpus.files.map((f) => [f, readFileSync(join(corpus.dir, f))] as const),
      ...craftedCorpus().map((c) => [c.file, c.bytes] as const),
    ];
    // Digest-less copies let mutations of the main header reach the package builder.
    bases = real.flatMap(([name, bytes]) => [
      { name, bytes, headerEnd: headerOffsets(bytes).mainEnd },
      {
        name: `${name} (no digests)`,
        bytes: withoutDigests(bytes),
        headerEnd: headerOffsets(withoutDigests(bytes)).mainEnd,
      },
    ]);
  });
  afterAll(() => cleanup());

  it("always returns a package or throws a typed RPM error, quickly (600 seeded mutations)", () => {
    const random = seededRandom(0x5eed);
    const pick = (n: number) => Math.floor(random() * n);
    const outcomes = new Map<string, number>();
    let slowest = 0;
    for (let i = 0; i < 600; i++) {
      const base = bases[pick(bases.length)]!;
      let bytes = Buffer.from(base.bytes.subarray(0, base.headerEnd + 256));
      const fileSize = base.bytes.length;
      const kind = pick(5);
      if (kind === 0) {
        for (let k = 0, n = 1 + pick(8); k < n; k++) bytes[pick(base.headerEnd)]! ^= 1 << pick(8);
      } else if (kind === 1) {
        // An index field (tag/type/offset/count) of either header gets a random or extreme value.
        const { mainStart } = headerOffsets(base.bytes);
        const start = random() < 0.5 ? 96 : mainStart;
        const il = bytes.readUInt32BE(start + 8);
        const at = start + 16 + pick(il) * 16 + pick(4) * 4;
        const values = [0, 1, 0xffffffff, 0x7fffffff, 0x80000000, pick(0x10000), pick(256)];
        bytes.writeUInt32BE(values[pick(values.length)]!, at);
      } else if (kind === 2) {
        bytes = bytes.subarray(0, pick(bytes.length));
      } else if (kind === 3) {
        const at = pick(base.headerEnd);
        bytes = Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + 1 + pick(16))]);
      } else {
        bytes.fill(pick(256), pick(base.headerEnd), pick(base.headerEnd));
      }
      const started = performance.now();
      let outcome = "ok";
      try {
        parseRpm(bytes, { fileName: "fuzz.rpm", fileSize: Math.max(fileSize, bytes.length) });
      } catch (err) {
        if (!isYumError(err))
          throw new Error(`mutation ${i} of ${base.name} threw a non-YumError: ${String(err)}`);
        expect(err.code).toMatch(/^RPM_/);
        expect(err.details.internal, `mutation ${i} of ${base.name}: ${err.message}`).toBeUndefined();
        expect(err.message.startsWith("fuzz.rpm: ")).toBe(true);
        outcome = err.code;
      }
      slowest = Math.max(slowest, performance.now() - started);
      outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
    }
    expect(slowest).toBeLessThan(500);
    // The mutations reach every kind of failure, and some packages survive harmless ones.
    expect([...outcomes.keys()].sort()).toEqual(
      expect.arrayContaining([
        "RPM_BAD_HEADER",
        "RPM_BAD_MAGIC",
        "RPM_DIGEST_MISMATCH",
        "RPM_TRUNCATED",
        "ok",
      ]),
    );
  });
});
