import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { YumError } from "@beskar-yum/errors";
import { decryptKey, generateKey, type PrivateKey, readPrivateKey } from "openpgp";
import { RepomdSigner } from "./repomd-signer.js";

/** The file a key is generated into, under the data dir (never inside a served directory). */
export const GENERATED_KEY_FILE = "signing-key.asc";

export interface SigningKeyOptions {
  /** `signing.key_file`: an armored OpenPGP secret key; when unset, one is generated into `datadir`. */
  keyFile?: string;
  /** `signing.passphrase` (`BESKARYUM_SIGNING_PASSPHRASE`), for a passphrase-protected key file. */
  passphrase?: string;
  datadir: string;
  /** Told once which key signs and where it came from. */
  log?: (fields: Record<string, unknown>, message: string) => void;
}

export interface LoadedSigningKey {
  signer: RepomdSigner;
  /** The file the key was read from (or generated into). */
  file: string;
  /** True when this process generated it. */
  generated: boolean;
}

/**
 * The server's repodata signing key: `signing.key_file`, else `<datadir>/signing-key.asc`, generated
 * there (mode 0600) on first start. A key that cannot be read, is not a secret key, or cannot be
 * decrypted is CONFIG_INVALID naming the file (the services exit 2).
 */
export async function loadSigningKey(options: SigningKeyOptions): Promise<LoadedSigningKey> {
  const loaded = await readOrGenerate(options);
  options.log?.(
    { file: loaded.file, keyId: loaded.signer.keyId, fingerprint: loaded.signer.fingerprint },
    loaded.generated ? "repodata signing key generated" : "repodata signing key loaded",
  );
  return loaded;
}

async function readOrGenerate(options: SigningKeyOptions): Promise<LoadedSigningKey> {
  if (options.keyFile !== undefined) {
    const file = options.keyFile;
    const text = readKeyFile(file, "signing.key_file")!;
    return { signer: await signerOf(text, file, "signing.key_file", options), file, generated: false };
  }
  const file = path.join(options.datadir, GENERATED_KEY_FILE);
  const existing = readKeyFile(file, "datadir", true);
  if (existing !== undefined)
    return { signer: await signerOf(existing, file, "datadir", {}), file, generated: false };
  const armored = await generateArmoredKey();
  const won = writeOnce(file, armored);
  // Two processes starting together both generate; the first file linked wins, the other reads it.
  const text = won ? armored : readKeyFile(file, "datadir")!;
  return { signer: await signerOf(text, file, "datadir", {}), file, generated: won };
}

/** RSA 3072, as gpg makes by default: every client since EL7's gpg 2.0 reads it. */
async function generateArmoredKey(): Promise<string> {
  const { privateKey } = await generateKey({
    type: "rsa",
    rsaBits: 3072,
    userIDs: [{ name: "beskar-yum repodata signing key" }],
    subkeys: [],
    format: "armored",
  });
  return privateKey;
}

function invalid(key: string, message: string, cause?: unknown): YumError {
  return new YumError(
    "CONFIG_INVALID",
    `invalid configuration: ${key}: ${message}`,
    { key },
    cause === undefined ? undefined : { cause },
  );
}

function readKeyFile(file: string, key: string, missingOk = false): string | undefined {
  try {
    return fs.readFileSync(file, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (missingOk && code === "ENOENT") return undefined;
    throw invalid(key, `cannot read the signing key ${file} (${code ?? err})`, err);
  }
}

async function signerOf(
  armored: string,
  file: string,
  key: string,
  options: { passphrase?: string },
): Promise<RepomdSigner> {
  let privateKey: PrivateKey;
  try {
    privateKey = await readPrivateKey({ armoredKey: armored });
  } catch (err) {
    throw invalid(key, `${file} is not an armored OpenPGP secret key (${(err as Error).message})`, err);
  }
  if (!privateKey.isDecrypted()) {
    if (options.passphrase === undefined)
      throw invalid(
        key,
        `the signing key ${file} is protected by a passphrase: set BESKARYUM_SIGNING_PASSPHRASE`,
      );
    try {
      privateKey = await decryptKey({ privateKey, passphrase: options.passphrase });
    } catch (err) {
      throw invalid(
        key,
        `the signing key ${file} cannot be decrypted with the passphrase given (${(err as Error).message})`,
        err,
      );
    }
  }
  try {
    return await RepomdSigner.of(privateKey);
  } catch (err) {
    throw invalid(key, `the signing key ${file} cannot sign (${(err as Error).message})`, err);
  }
}

/** Writes `text` to `file` unless it exists: temp file, fsync, link (never replaces). True when written. */
function writeOnce(file: string, text: string): boolean {
  const tmp = `${file}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`;
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    const fd = fs.openSync(tmp, "wx", 0o600);
    try {
      fs.writeSync(fd, text);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.linkSync(tmp, file);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw invalid(
      "datadir",
      `cannot write the signing key to ${file} (${(err as NodeJS.ErrnoException).code ?? err})`,
      err,
    );
  } finally {
    fs.rmSync(tmp, { force: true });
  }
}
