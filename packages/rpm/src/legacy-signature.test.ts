import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { isYumError, type YumError } from "@beskar-yum/errors";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseLegacySignature, verifyLegacySignature } from "./legacy-signature.js";
import { RpmPayloadVerifier, verifyRpmPayload } from "./payload-digest.js";
import { parseRpm } from "./read-rpm.js";
import { readArmoredPublicKeys, verifyRpmSignature } from "./signature.js";
import { RpmType, SigTag } from "./tags.js";
import { basicMain, craftRpm, writeHeader } from "./test-support/crafted-rpm.js";
import { ROCKY_KEY, ROCKY_PACKAGES, rockyRpms, tempDir } from "./test-support/fixtures.js";
import { TestGpg, type TestKey } from "./test-support/gpg.js";
import { runTool } from "./test-support/run-tool.js";

const rockyKey = readFileSync(ROCKY_KEY, "utf8");

async function failure(p: Promise<unknown>): Promise<YumError> {
  try {
    await p;
  } catch (err) {
    if (isYumError(err)) return err;
    throw err;
  }
  throw new Error("expected a failure");
}

describe("legacy header+payload signatures (PGP 1002 / GPG 1005)", () => {
  let dir: string;
  let cleanup: () => void;
  let gpg: TestGpg;
  let key: TestKey;
  let signed: string;
  let rpmdb: string;

  beforeAll(() => {
    ({ dir, cleanup } = tempDir("rpm-legacy"));
    gpg = new TestGpg(dir);
    key = gpg.generate("v3@example.invalid", "rsa");
    // A package as rpm < 4.14 made them: no PAYLOADDIGEST, the MD5 of header+payload only, then
    // signed with rpmsign --rpmv3 (a header signature and a header+payload one).
    const entries = basicMain("md5only");
    const main = writeHeader(entries, 63);
    const payload = Buffer.alloc(8192, 0x5a);
    const md5 = createHash("md5").update(main).update(payload).digest();
    signed = join(dir, "md5only-1.0-1.noarch.rpm");
    writeFileSync(
      signed,
      craftRpm({ main: entries, payload, signature: [{ tag: SigTag.MD5, type: RpmType.BIN, value: md5 }] }),
    );
    runTool(
      "rpmsign",
      [
        "--define",
        "__gpg /usr/bin/gpg",
        "--define",
        `_gpg_name ${key.email}`,
        "--addsign",
        "--rpmv3",
        signed,
      ],
      { env: { GNUPGHOME: gpg.home } },
    );
    // rpm with the key imported, to cross-check what it says.
    rpmdb = join(dir, "rpmdb");
    const keyFile = join(dir, "key.asc");
    writeFileSync(keyFile, key.armoredPublicKey);
    runTool("rpm", ["--dbpath", rpmdb, "--initdb"]);
    runTool("rpmkeys", ["--dbpath", rpmdb, "--import", keyFile]);
  });
  afterAll(() => {
    gpg.close();
    cleanup();
  });

  /** `rpmkeys -Kv` with the test key: its lines. */
  const rpmK = (path: string): string[] => {
    try {
      return execFileSync("rpmkeys", ["--dbpath", rpmdb, "-Kv", path], { encoding: "utf8" })
        .split("\n")
        .map((l) => l.trim());
    } catch (err) {
      return String((err as { stdout?: string }).stdout ?? "")
        .split("\n")
        .map((l) => l.trim());
    }
  };

  it("verifies every Rocky RPM's RSA/SHA256 header+payload signature from a hash of header+payload", async () => {
    const keys = await readArmoredPublicKeys(rockyKey);
    const others = await readArmoredPublicKeys(key.armoredPublicKey);
    for (const file of rockyRpms()) {
      const bytes = readFileSync(join(ROCKY_PACKAGES, file));
      const parsed = parseRpm(bytes);
      const signature = parseLegacySignature(parsed.signatureHeader.binary(SigTag.PGP)!)!;
      expect(signature).toMatchObject({
        version: 4,
        publicKeyAlgorithm: 1,
        hashAlgorithm: 8,
        hashName: "sha256",
      });
      const hashOf = (b: Buffer) => createHash("sha256").update(b.subarray(parsed.header.start));
      expect(verifyLegacySignature(signature, hashOf(bytes), keys)).toEqual({
        ok: true,
        keyId: "15af5dac6d745a60",
      });
      const tampered = Buffer.from(bytes);
      tampered[tampered.length - 10]! ^= 1;
      expect(verifyLegacySignature(signature, hashOf(tampered), keys)).toMatchObject({
        ok: false,
        reason: "bad",
      });
      expect(verifyLegacySignature(signature, hashOf(bytes), others)).toMatchObject({
        ok: false,
        reason: "unknown-key",
      });
    }
  });

  it("a package without PAYLOADDIGEST verifies through its MD5 and its header+payload signature, as rpm says", async () => {
    expect(rpmK(signed)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^V4 RSA\/SHA\d+ Signature, key ID [0-9a-f]{8}: OK$/),
        "MD5 digest: OK",
      ]),
    );
    const bytes = readFileSync(signed);
    const parsed = parseRpm(bytes, { fileName: "md5only.rpm" });
    const verdict = verifyRpmPayload(parsed, bytes);
    expect(verdict.coverage).toBe("md5");
    expect(verdict.legacy?.map((l) => l.tag)).toEqual([SigTag.PGP]);
    await expect(verifyRpmSignature(parsed, key.armoredPublicKey)).resolves.toMatchObject({
      keyId: expect.stringMatching(/^[0-9a-f]{16}$/),
    });
    // The same from a stream.
    const streamed = parseRpm(bytes, { fileName: "md5only.rpm" });
    const verifier = new RpmPayloadVerifier("md5only.rpm");
    for (let at = 0; at < bytes.length; at += 1000) verifier.update(bytes.subarray(at, at + 1000));
    streamed.payload = verifier.finish();
    await expect(verifyRpmSignature(streamed, key.armoredPublicKey)).resolves.toBeDefined();
  });

  it("refuses a payload changed behind a recomputed MD5: only the header+payload signature can tell", async () => {
    const bytes = Buffer.from(readFileSync(signed));
    const parsed = parseRpm(bytes);
    bytes[bytes.length - 10]! ^= 1;
    const md5 = createHash("md5").update(bytes.subarray(parsed.header.start)).digest();
    md5.copy(bytes, parsed.signatureHeader.dataOffset(SigTag.MD5)!);
    const forged = join(dir, "forged.rpm");
    writeFileSync(forged, bytes);
    const lines = rpmK(forged);
    expect(lines).toContain("MD5 digest: OK");
    expect(lines).toEqual(
      expect.arrayContaining([expect.stringMatching(/^V4 RSA\/SHA\d+ Signature, key ID [0-9a-f]{8}: BAD$/)]),
    );

    const result = parseRpm(bytes, { fileName: "forged.rpm" });
    expect(verifyRpmPayload(result, bytes).coverage).toBe("md5");
    const err = await failure(verifyRpmSignature(result, key.armoredPublicKey));
    expect(err.code).toBe("RPM_SIGNATURE_INVALID");
    expect(err.message).toMatch(
      /^forged\.rpm: header\+payload signature \(tag 1002 \(PGP\)\) by key [0-9a-f]{16} does not verify: /,
    );
  });
});
