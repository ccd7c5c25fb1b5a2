import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runTool } from "./run-tool.js";

export interface TestKey {
  email: string;
  armoredPublicKey: string;
}

/** A private GnuPG home for throwaway signing keys; `close` stops its gpg-agent. */
export class TestGpg {
  readonly home: string;

  constructor(dir: string) {
    this.home = join(dir, "gnupg");
    mkdirSync(this.home, { recursive: true, mode: 0o700 });
  }

  private gpg(args: string[], input?: string): string {
    return runTool("gpg", ["--batch", ...args], { env: { GNUPGHOME: this.home }, input });
  }

  /** Generates a key without passphrase: RSA 3072 or ed25519. */
  generate(email: string, kind: "rsa" | "ed25519"): TestKey {
    const type = kind === "rsa" ? "Key-Type: RSA\nKey-Length: 3072" : "Key-Type: EDDSA\nKey-Curve: ed25519";
    const params = join(this.home, `${email}.params`);
    writeFileSync(
      params,
      `%no-protection\n${type}\nKey-Usage: sign\nName-Real: Test ${kind}\nName-Email: ${email}\nExpire-Date: 0\n%commit\n`,
    );
    this.gpg(["--gen-key", params]);
    return { email, armoredPublicKey: this.gpg(["--armor", "--export", email]) };
  }

  /** Signs RPMs in place with rpmsign (rpm 4.18 writes a header-only signature). */
  sign(key: TestKey, rpms: string[]): void {
    runTool(
      "rpmsign",
      ["--define", "__gpg /usr/bin/gpg", "--define", `_gpg_name ${key.email}`, "--addsign", ...rpms],
      {
        env: { GNUPGHOME: this.home },
      },
    );
  }

  close(): void {
    try {
      runTool("gpgconf", ["--kill", "gpg-agent"], { env: { GNUPGHOME: this.home } });
    } catch {
      // no agent was started
    }
  }

  static readArmored(path: string): string {
    return readFileSync(path, "utf8");
  }
}
