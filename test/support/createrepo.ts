import * as fs from "node:fs";
import * as path from "node:path";
import { type RunResult, runOk } from "./run.js";

/**
 * `createrepo_c --no-database [args] <dir>` (TOOLS.md §3): the reference repodata our output is compared
 * with. Pass `--database` in `args` to get the sqlite files. A `.repodata/` left by a killed run is removed
 * first. Throws with both outputs when createrepo_c fails.
 */
export async function createrepoC(dir: string, args: string[] = []): Promise<RunResult> {
  fs.rmSync(path.join(dir, ".repodata"), { recursive: true, force: true });
  const database = args.includes("--database") ? [] : ["--no-database"];
  return runOk("createrepo_c", [...database, ...args, dir], { timeoutMs: 120_000 });
}
