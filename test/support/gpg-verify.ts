import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { type RunResult, run, runOk } from "./run.js";
import { makeTempDir } from "./tmp.js";

/** `gpg --verify` of `data` against `signature`, with only `key` in a keyring of its own. */
export async function gpgVerify(
  key: string,
  signature: Buffer | string,
  data: Buffer | string,
): Promise<RunResult> {
  const home = makeTempDir("gpg-verify-");
  const dir = makeTempDir("gpg-files-");
  writeFileSync(join(dir, "key.asc"), key);
  writeFileSync(join(dir, "repomd.xml.asc"), signature);
  writeFileSync(join(dir, "repomd.xml"), data);
  await runOk("gpg", ["--homedir", home, "--batch", "--import", join(dir, "key.asc")]);
  const verified = await run("gpg", [
    "--homedir",
    home,
    "--batch",
    "--verify",
    join(dir, "repomd.xml.asc"),
    join(dir, "repomd.xml"),
  ]);
  await run("gpgconf", ["--homedir", home, "--kill", "gpg-agent"]);
  return verified;
}
