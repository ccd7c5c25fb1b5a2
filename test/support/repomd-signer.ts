import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { runOk } from "./run.js";

export interface RepomdSigner {
  /** The armored public key of the throwaway signing key. */
  armoredPublicKey: string;
  /** Writes `<file>.asc`, an armored detached signature of `file` (as upstreams sign repomd.xml). */
  sign(file: string): Promise<void>;
  /** Stops the key's gpg-agent. */
  close(): Promise<void>;
}

/** A throwaway RSA signing key (no passphrase) in a GnuPG home of its own under `dir`. */
export async function makeRepomdSigner(dir: string): Promise<RepomdSigner> {
  const home = join(dir, "gnupg");
  mkdirSync(home, { recursive: true, mode: 0o700 });
  const uid = "Mirror Upstream Test <upstream@test.invalid>";
  const gpg = (...args: string[]) =>
    runOk("gpg", ["--homedir", home, "--batch", "--pinentry-mode", "loopback", "--passphrase", "", ...args]);
  await gpg("--quick-gen-key", uid, "rsa3072", "sign", "never");
  const armoredPublicKey = (await gpg("--armor", "--export", uid)).stdout;
  return {
    armoredPublicKey,
    sign: async (file) => {
      await gpg("--yes", "--local-user", uid, "--armor", "--detach-sign", "--output", `${file}.asc`, file);
    },
    close: async () => {
      await runOk("gpgconf", ["--homedir", home, "--kill", "gpg-agent"]).catch(() => undefined);
    },
  };
}
