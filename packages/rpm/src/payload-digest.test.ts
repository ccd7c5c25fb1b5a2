import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { isYumError, type YumError } from "@beskar-yum/errors";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type PayloadVerdict,
  payloadCoverage,
  RpmPayloadVerifier,
  requirePayloadDigest,
  verifyRpmPayload,
} from "./payload-digest.js";
import { parseRpm, readRpm } from "./read-rpm.js";
import { RpmType } from "./tags.js";
import { basicMain, craftRpm, headerOffsets, writeHeader } from "./test-support/crafted-rpm.js";
import { ROCKY_PACKAGES, rockyRpms, seededRandom, tempDir } from "./test-support/fixtures.js";
import { buildRpmbuildCorpus } from "./test-support/rpmbuild-corpus.js";

/** `rpm -Kv --nosignature` of one file: its lines ("Payload SHA256 digest: OK", ...) and exit code. */
function rpmK(path: string): { lines: string[]; ok: boolean } {
  try {
    const out = execFileSync("rpm", ["-Kv", "--nosignature", path], {
      encoding: "utf8",
      env: { ...process.env, LC_ALL: "C.UTF-8" },
    });
    return {
      lines: out
        .split("\n")
        .slice(1)
        .map((l) => l.trim())
        .filter(Boolean),
      ok: true,
    };
  } catch (err) {
    const out = String((err as { stdout?: string }).stdout ?? "");
    return {
      lines: out
        .split("\n")
        .slice(1)
        .map((l) => l.trim())
        .filter(Boolean),
      ok: false,
    };
  }
}

/** Streams `bytes` through a verifier in chunks of random sizes (1..max), as a socket would deliver them. */
function stream(
  bytes: Uint8Array,
  seed: number,
  max = 70_000,
  fileName = "x.rpm",
): PayloadVerdict | undefined {
  const random = seededRandom(seed);
  const verifier = new RpmPayloadVerifier(fileName);
  for (let at = 0; at < bytes.length; ) {
    const n = 1 + Math.floor(random() * max);
    verifier.update(Buffer.from(bytes.subarray(at, at + n)));
    at += n;
  }
  const verdict = verifier.finish();
  expect(verifier.verdict).toEqual(verdict);
  return verdict;
}

function errorOf(fn: () => unknown): YumError {
  try {
    fn();
  } catch (err) {
    if (isYumError(err)) return err;
    throw err;
  }
  throw new Error("expected a YumError");
}

/** The same file with one byte flipped `fromEnd` bytes before its end. */
function flipped(bytes: Uint8Array, fromEnd = 10): Buffer {
  const out = Buffer.from(bytes);
  out[out.length - fromEnd]! ^= 0x01;
  return out;
}

describe("payload digests of real RPMs", () => {
  let dir: string;
  let cleanup: () => void;
  let built: string[];
  let files: string[];

  beforeAll(() => {
    ({ dir, cleanup } = tempDir("rpm-payload"));
    const corpus = buildRpmbuildCorpus(dir);
    built = corpus.files.map((f) => join(corpus.dir, f));
    files = [...rockyRpms().map((f) => join(ROCKY_PACKAGES, f)), ...built];
  });
  afterAll(() => cleanup());

  it("verifies every Rocky and rpmbuild RPM, streamed and in memory, as rpm -Kv does", () => {
    expect(files.length).toBeGreaterThan(30);
    for (const [i, path] of files.entries()) {
      const bytes = readFileSync(path);
      const parsed = parseRpm(bytes, { fileName: path });
      const inMemory = verifyRpmPayload(parsed, bytes);
      // Each file both streamed in big random chunks and with its headers split into tiny ones.
      expect(stream(bytes, i)).toEqual(inMemory);
      expect(stream(bytes, i, 7)?.digest).toBe(inMemory.digest);
      expect(inMemory.coverage).toBe("payload");
      expect(inMemory.label).toBe("SHA256");
      expect(inMemory.fileSize).toBe(bytes.length);
      // rpm's PAYLOADDIGEST is the sha256 of every byte after the main header.
      const { mainEnd } = headerOffsets(bytes);
      expect(inMemory.digest).toBe(createHash("sha256").update(bytes.subarray(mainEnd)).digest("hex"));
      const qf = execFileSync(
        "rpm",
        ["-qp", "--nosignature", "--qf", "%{PAYLOADDIGEST} %{PAYLOADDIGESTALGO}", path],
        {
          encoding: "utf8",
        },
      );
      expect(qf).toBe(`${inMemory.digest} 8`);
      const k = rpmK(path);
      expect(k.ok).toBe(true);
      expect(k.lines).toContain("Payload SHA256 digest: OK");
      expect(payloadCoverage(parsed)).toBe("payload");
    }
  });

  it("refuses a payload with one byte flipped near the end, where rpm -Kv says BAD", () => {
    for (const path of [join(ROCKY_PACKAGES, rockyRpms()[1]!), built[0]!]) {
      const bytes = flipped(readFileSync(path));
      const tampered = join(dir, "tampered.rpm");
      writeFileSync(tampered, bytes);
      const k = rpmK(tampered);
      expect(k.ok).toBe(false);
      const bad = k.lines.find((l) => l.startsWith("Payload SHA256 digest: BAD"));
      expect(bad).toBeDefined();

      // The headers still parse and their own digests match: only the payload is wrong.
      const parsed = parseRpm(bytes, { fileName: "tampered.rpm" });
      const inMemory = errorOf(() => verifyRpmPayload(parsed, bytes));
      const streamed = errorOf(() => stream(bytes, 3, 70_000, "tampered.rpm"));
      for (const err of [inMemory, streamed]) {
        expect(err.code).toBe("RPM_PAYLOAD_DIGEST_MISMATCH");
        expect(err.httpStatus).toBe(400);
        expect(err.message).toMatch(
          /^tampered\.rpm: payload SHA256 digest \(main header tag 5092 \(PAYLOADDIGEST\)\) mismatch: expected [0-9a-f]{64}, bytes \d+\.\.\d+ hash to [0-9a-f]{64}$/,
        );
        // The same two values rpm prints: "BAD (Expected <header's> != <computed>)".
        expect(bad).toBe(
          `Payload SHA256 digest: BAD (Expected ${err.details.expected} != ${err.details.actual})`,
        );
      }
    }
  });

  it("refuses bytes appended after the payload (RPM_TRAILING_DATA), at the first extra byte", () => {
    const bytes = readFileSync(join(ROCKY_PACKAGES, rockyRpms()[0]!));
    const padded = Buffer.concat([bytes, Buffer.from("garbage")]);
    const path = join(dir, "padded.rpm");
    writeFileSync(path, padded);
    expect(rpmK(path).ok).toBe(false);
    expect(errorOf(() => parseRpm(padded)).code).toBe("RPM_TRAILING_DATA");
    expect(errorOf(() => stream(padded, 5)).code).toBe("RPM_TRAILING_DATA");
    // Streaming: refused by the chunk that goes past the end, before the stream ends.
    const verifier = new RpmPayloadVerifier("padded.rpm");
    verifier.update(bytes);
    const err = errorOf(() => verifier.update(Buffer.from("x")));
    expect([err.code, err.message]).toEqual([
      "RPM_TRAILING_DATA",
      `padded.rpm: trailing data after the payload: the signature header says header+payload ends at offset ${bytes.length}, the file goes on past it (at least ${bytes.length + 1} bytes)`,
    ]);
    return expect(readRpm(path)).rejects.toMatchObject({ code: "RPM_TRAILING_DATA" });
  });

  it("refuses a truncated payload (RPM_TRUNCATED), and a stream that ends inside the headers", () => {
    const bytes = readFileSync(join(ROCKY_PACKAGES, rockyRpms()[0]!));
    const { mainEnd } = headerOffsets(bytes);
    for (const length of [bytes.length - 1, mainEnd + 1, mainEnd, mainEnd - 1, 200, 50]) {
      const cut = bytes.subarray(0, length);
      const err = errorOf(() => stream(cut, length));
      expect(err.code).toBe("RPM_TRUNCATED");
    }
    // Inside the headers: the very error readRpm gives.
    for (const length of [3000, 100, mainEnd - 1]) {
      const cut = bytes.subarray(0, length);
      const expected = errorOf(() => parseRpm(cut, { fileName: "x.rpm" }));
      expect(errorOf(() => stream(cut, length, 500)).message).toBe(expected.message);
    }
    const verifier = new RpmPayloadVerifier("cut.rpm");
    verifier.update(bytes.subarray(0, bytes.length - 1));
    expect(errorOf(() => verifier.finish()).message).toBe(
      `cut.rpm: truncated RPM: file is ${bytes.length - 1} bytes, the signature header says header+payload ends at offset ${bytes.length}`,
    );
  });

  it("refuses what is not an RPM at its first bytes, and leaves an empty stream to the caller", () => {
    const verifier = new RpmPayloadVerifier("foo.rpm");
    const err = errorOf(() => verifier.update(Buffer.alloc(200, 0x41)));
    expect([err.code, err.message]).toEqual([
      "RPM_BAD_MAGIC",
      "foo.rpm: not an RPM: lead magic at offset 0 is 41414141, expected edabeedb",
    ]);
    expect(new RpmPayloadVerifier().finish()).toBeUndefined();
  });

  it("checks the main header's own digests before trusting the payload digest it carries", () => {
    const bytes = Buffer.from(readFileSync(join(ROCKY_PACKAGES, rockyRpms()[0]!)));
    const { mainStart } = headerOffsets(bytes);
    bytes[mainStart + 2000]! ^= 0x5a;
    const expected = errorOf(() => parseRpm(bytes, { fileName: "x.rpm" }));
    expect(expected.code).toBe("RPM_DIGEST_MISMATCH");
    expect(errorOf(() => stream(bytes, 9)).message).toBe(expected.message);
  });
});

describe("header+payload MD5 (packages without PAYLOADDIGEST)", () => {
  let dir: string;
  let cleanup: () => void;
  beforeAll(() => ({ dir, cleanup } = tempDir("rpm-md5")));
  afterAll(() => cleanup());

  /** A crafted package whose signature header has MD5 (1004) of header+payload and no PAYLOADDIGEST. */
  function withMd5(payload: Buffer): Buffer {
    const entries = basicMain("md5only");
    const main = writeHeader(entries, 63);
    const md5 = createHash("md5").update(main).update(payload).digest();
    return craftRpm({ main: entries, payload, signature: [{ tag: 1004, type: RpmType.BIN, value: md5 }] });
  }

  it("verifies the MD5 of header+payload, as rpm -Kv does, and refuses a flipped byte", () => {
    const bytes = withMd5(Buffer.alloc(4096, 0x5a));
    const good = join(dir, "good.rpm");
    writeFileSync(good, bytes);
    expect(rpmK(good).lines).toContain("MD5 digest: OK");
    const verdict = verifyRpmPayload(parseRpm(bytes), bytes);
    expect(verdict).toMatchObject({ coverage: "md5", label: "MD5" });
    expect(stream(bytes, 1, 100)).toEqual(verdict);

    const bad = flipped(bytes);
    const badPath = join(dir, "bad.rpm");
    writeFileSync(badPath, bad);
    expect(rpmK(badPath).lines.some((l) => l.startsWith("MD5 digest: BAD"))).toBe(true);
    for (const err of [
      errorOf(() => verifyRpmPayload(parseRpm(bad), bad)),
      errorOf(() => stream(bad, 2, 100)),
    ]) {
      expect(err.code).toBe("RPM_PAYLOAD_DIGEST_MISMATCH");
      expect(err.message).toMatch(/header\+payload MD5 digest \(signature tag 1004 \(MD5\)\) mismatch/);
    }
  });

  it("knows when no digest covers the payload: a signature cannot vouch for it", () => {
    const bytes = craftRpm({ main: basicMain("nodigest") });
    const parsed = parseRpm(bytes, { fileName: "nodigest.rpm" });
    expect(payloadCoverage(parsed)).toBe("none");
    expect(verifyRpmPayload(parsed, bytes)).toEqual({ coverage: "none", fileSize: bytes.length });
    const err = errorOf(() => requirePayloadDigest(parsed));
    expect(err.code).toBe("RPM_MISSING_TAG");
    expect(err.message).toMatch(/^nodigest\.rpm: no digest covers the payload/);
    // Its length is still checked against SIZE.
    expect(errorOf(() => stream(Buffer.concat([bytes, Buffer.alloc(1)]), 1)).code).toBe("RPM_TRAILING_DATA");
  });
});
