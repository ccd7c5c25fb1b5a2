import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createMessage, generateKey, readKey, readSignature, verify } from "openpgp";
import { afterEach, describe, expect, it } from "vitest";
import { ephemeralSigner } from "./repomd-signer.js";
import { GENERATED_KEY_FILE, loadSigningKey } from "./signing-key.js";

const dirs: string[] = [];
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), "signing-key-"));
  dirs.push(dir);
  return dir;
};
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

async function verifies(publicKey: string, text: string, signature: string): Promise<boolean> {
  const result = await verify({
    message: await createMessage({ binary: Buffer.from(text, "utf8") }),
    signature: await readSignature({ armoredSignature: signature }),
    verificationKeys: await readKey({ armoredKey: publicKey }),
  });
  return result.signatures[0]!.verified.then(
    () => true,
    () => false,
  );
}

describe("loadSigningKey", () => {
  it("generates a key into the data dir once (mode 0600), and reads that one afterwards", async () => {
    const datadir = join(tempDir(), "data");
    const first = await loadSigningKey({ datadir });
    expect(first.generated).toBe(true);
    expect(first.file).toBe(join(datadir, GENERATED_KEY_FILE));
    expect(statSync(first.file).mode & 0o777).toBe(0o600);
    const second = await loadSigningKey({ datadir });
    expect(second.generated).toBe(false);
    expect(second.signer.fingerprint).toBe(first.signer.fingerprint);
    const signature = await second.signer.sign("<repomd/>");
    expect(await verifies(first.signer.publicKey, "<repomd/>", signature)).toBe(true);
    expect(await verifies(first.signer.publicKey, "<repomd/> ", signature)).toBe(false);
  });

  it("processes starting together end up with one key: the first written wins, the others read it", async () => {
    const datadir = tempDir();
    const loaded = await Promise.all([1, 2, 3, 4].map(() => loadSigningKey({ datadir })));
    expect(new Set(loaded.map((l) => l.signer.fingerprint)).size).toBe(1);
    expect(loaded.filter((l) => l.generated)).toHaveLength(1);
    const onDisk = readFileSync(join(datadir, GENERATED_KEY_FILE), "utf8");
    const fromDisk = await loadSigningKey({ datadir });
    expect(fromDisk.signer.fingerprint).toBe(loaded[0]!.signer.fingerprint);
    expect(onDisk).toMatch(/^-----BEGIN PGP PRIVATE KEY BLOCK-----/);
  });

  it("refuses a key file that is not a key, a public key, and a missing file, naming the file", async () => {
    const dir = tempDir();
    const garbage = join(dir, "garbage.asc");
    writeFileSync(garbage, "hello\n");
    await expect(loadSigningKey({ datadir: dir, keyFile: garbage })).rejects.toThrow(
      `invalid configuration: signing.key_file: ${garbage} is not an armored OpenPGP secret key`,
    );
    const publicOnly = join(dir, "public.asc");
    writeFileSync(publicOnly, (await ephemeralSigner()).publicKey);
    await expect(loadSigningKey({ datadir: dir, keyFile: publicOnly })).rejects.toThrow(
      `signing.key_file: ${publicOnly} is not an armored OpenPGP secret key`,
    );
    const missing = join(dir, "missing.asc");
    await expect(loadSigningKey({ datadir: dir, keyFile: missing })).rejects.toMatchObject({
      code: "CONFIG_INVALID",
      message: `invalid configuration: signing.key_file: cannot read the signing key ${missing} (ENOENT)`,
    });
    writeFileSync(join(dir, GENERATED_KEY_FILE), "not a key");
    await expect(loadSigningKey({ datadir: dir })).rejects.toThrow(
      `invalid configuration: datadir: ${join(dir, GENERATED_KEY_FILE)} is not an armored OpenPGP secret key`,
    );
  });

  it("decrypts a passphrase-protected key with its passphrase, and says what is wrong without it", async () => {
    const dir = tempDir();
    const file = join(dir, "protected.asc");
    const { privateKey } = await generateKey({
      type: "ecc",
      curve: "ed25519Legacy",
      userIDs: [{ name: "protected" }],
      passphrase: "correct horse",
      format: "armored",
    });
    writeFileSync(file, privateKey);
    await expect(loadSigningKey({ datadir: dir, keyFile: file })).rejects.toThrow(
      `the signing key ${file} is protected by a passphrase: set BESKARYUM_SIGNING_PASSPHRASE`,
    );
    await expect(loadSigningKey({ datadir: dir, keyFile: file, passphrase: "wrong" })).rejects.toThrow(
      `the signing key ${file} cannot be decrypted with the passphrase given`,
    );
    const loaded = await loadSigningKey({ datadir: dir, keyFile: file, passphrase: "correct horse" });
    const signature = await loaded.signer.sign("x");
    expect(await verifies(loaded.signer.publicKey, "x", signature)).toBe(true);
  });

  it("tells its own signatures from another key's", async () => {
    const ours = await ephemeralSigner();
    const theirs = await ephemeralSigner();
    expect(await ours.issued(await ours.sign("a"))).toBe(true);
    expect(await ours.issued(await theirs.sign("a"))).toBe(false);
    expect(await ours.issued("not a signature")).toBe(false);
  });
});
