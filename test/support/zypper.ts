import { mkdirSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { type RunResult, run, runOk } from "./run.js";
import { makeTempDir } from "./tmp.js";

/** Where scripts/check-tools.mjs unpacked zypper (not installed: it conflicts with dnf-plugins-core). */
const unpacked = path.join(os.tmpdir(), "beskar-yum-zypper", "root");

/**
 * zypper with its default settings (no zypp.conf of ours: repomd.xml signatures are checked) on a
 * root of its own holding one `.repo` file; `--gpg-auto-import-keys` answers "trust" to the key
 * prompt, as dnf's `--assumeyes` does. Returns a runner of `zypper <args>` whatever the exit code.
 */
export async function zypperWithRepoFile(repoFile: string): Promise<{
  root: string;
  zypper(args: string[]): Promise<RunResult>;
}> {
  const root = makeTempDir("zypper-root-");
  mkdirSync(path.join(root, "etc/zypp/repos.d"), { recursive: true });
  writeFileSync(path.join(root, "etc/zypp/repos.d/served.repo"), repoFile);
  await runOk("rpm", ["--root", root, "--initdb"]);
  const env = {
    PATH: `${path.join(unpacked, "usr/bin")}:${process.env.PATH}`,
    LD_LIBRARY_PATH: path.join(unpacked, "usr/lib/x86_64-linux-gnu"),
  };
  return {
    root,
    zypper: (args) =>
      run(
        path.join(unpacked, "usr/bin/zypper"),
        ["--root", root, "--non-interactive", "--gpg-auto-import-keys", ...args],
        { env, timeoutMs: 180_000 },
      ),
  };
}
