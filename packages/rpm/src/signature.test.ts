import { copyFileSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { isYumError, type YumError } from "@beskar-yum/errors";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readRpm } from "./read-rpm.js";
import { verifyRpmSignature } from "./signature.js";
import { ROCKY_KEY, ROCKY_PACKAGES, rockyRpms, tempDir } from "./test-support/fixtures.js";
import { TestGpg, type TestKey } from "./test-support/gpg.js";
import { rpmQuery } from "./test-support/rpm-query.js";
import { buildRpmbuildCorpus } from "./test-support/rpmbuild-corpus.js";

const rockyKey = readFileSync(ROCKY_KEY, "utf8");

async function failure(p: Promise<unknown>): Promise<YumError> {
  try {
    await p;
  } catch (err) {
    if (isYumError(err)) return err;
    throw err;
  }
  throw new Error("expected verification to fail");
}

describe("verifyRpmSignature", () => {
  let dir: string;
  let cleanup: () => void;
  let gpg: TestGpg;
  let rsa: TestKey;
  let ed: TestKey;
  let unsigned: string;
  let rsaSigned: string;
  let edSigned: string;

  beforeAll(() => {
    ({ dir, cleanup } = tempDir("rpm-sig"));
    gpg = new TestGpg(dir);
    rsa = gpg.generate("rsa@example.invalid", "rsa");
    ed = gpg.generate("ed@example.invalid", "ed25519");
    const corpus = buildRpmbuildCorpus(dir);
    unsigned = join(corpus.dir, "tinypkg-1.0-1.noarch.rpm");
    rsaSigned = join(dir, "rsa-signed.rpm");
    edSigned = join(dir, "ed-signed.rpm");
    copyFileSync(unsigned, rsaSigned);
    copyFileSync(unsigned, edSigned);
    gpg.sign(rsa, [rsaSigned]);
    gpg.sign(ed, [edSigned]);
  });
  afterAll(() => {
    gpg.close();
    cleanup();
  });

  it("accepts every Rocky RPM with the Rocky release key", async () => {
    for (const file of rockyRpms()) {
      const result = await readRpm(join(ROCKY_PACKAGES, file));
      await expect(verifyRpmSignature(result, rockyKey)).resolves.toEqual({ keyId: "15af5dac6d745a60" });
    }
  });

  it("rejects a Rocky RPM checked against another key, naming the signing key", async () => {
    const result = await readRpm(join(ROCKY_PACKAGES, rockyRpms()[0]!));
    const err = await failure(verifyRpmSignature(result, rsa.armoredPublicKey));
    expect(err.code).toBe("RPM_SIGNATURE_INVALID");
    expect(err.message).toMatch(
      /^booth-core-debuginfo-1\.0-6\.ac1d34c\.git\.el8\.2\.x86_64\.rpm: package is signed with key 15af5dac6d745a60, which is not among the given keys \([0-9a-f]{16}\)$/,
    );
  });

  it("rejects an unsigned package", async () => {
    const err = await failure(verifyRpmSignature(await readRpm(unsigned), rockyKey));
    expect([err.code, err.message]).toEqual([
      "RPM_SIGNATURE_INVALID",
      "tinypkg-1.0-1.noarch.rpm: package is not signed",
    ]);
  });

  it("verifies RSA and EdDSA header signatures made by rpmsign", async () => {
    const rsaResult = await readRpm(rsaSigned);
    const edResult = await readRpm(edSigned);
    const keyIdOf = (k: TestKey) => rpmQuery([k === rsa ? rsaSigned : edSigned])[0]!.SIGNATURE.slice(-16);
    await expect(verifyRpmSignature(rsaResult, rsa.armoredPublicKey)).resolves.toEqual({
      keyId: keyIdOf(rsa),
    });
    await expect(verifyRpmSignature(edResult, ed.armoredPublicKey)).resolves.toEqual({ keyId: keyIdOf(ed) });
    // Several keys in one armored block are fine.
    await expect(verifyRpmSignature(edResult, rockyKey + ed.armoredPublicKey)).resolves.toBeTruthy();
    expect(edResult.pkg.signature.description).toMatch(
      /^EdDSA\/SHA256, \w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}, Key ID [0-9a-f]{16}$/,
    );
    expect(rpmQuery([rsaSigned])[0]!.SIGNATURE).toBe(rsaResult.pkg.signature.description);
    await expect(failure(verifyRpmSignature(edResult, rsa.armoredPublicKey))).resolves.toMatchObject({
      code: "RPM_SIGNATURE_INVALID",
    });
  });

  it("rejects a signature that does not match the header bytes", async () => {
    const result = await readRpm(join(ROCKY_PACKAGES, rockyRpms()[1]!));
    const tampered = Buffer.from(result.headerBytes);
    tampered[tampered.length - 10]! ^= 1;
    const err = await failure(verifyRpmSignature({ ...result, headerBytes: tampered }, rockyKey));
    expect(err.code).toBe("RPM_SIGNATURE_INVALID");
    expect(err.message).toMatch(
      /header signature \(tag 268 \(RSAHEADER\)\) by key 15af5dac6d745a60 does not verify: /,
    );
  });

  it("reports unreadable keys", async () => {
    const result = await readRpm(join(ROCKY_PACKAGES, rockyRpms()[0]!));
    await expect(verifyRpmSignature(result, "not a key")).rejects.toMatchObject({ code: "REPO_BAD_GPG_KEY" });
  });
});
