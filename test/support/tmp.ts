import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

const created = new Set<string>();
const cleanups: (() => Promise<void>)[] = [];

/**
 * Runs `fn` with the next `cleanupTempDirs()`: what lives as long as this file's temp dirs (the
 * PostgreSQL database of a stack's data dir, test/harness/index-driver.ts).
 */
export function onTempDirsCleanup(fn: () => Promise<void>): void {
  cleanups.push(fn);
}

/**
 * A fresh directory `<os.tmpdir()>/beskar-yum-<prefix>XXXXXX`, registered for `cleanupTempDirs()`.
 * Call `afterAll(cleanupTempDirs)` in the test file. `BESKARYUM_TEST_KEEP_TMP=1` keeps them (for debugging).
 */
export function makeTempDir(prefix = "tmp-"): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `beskar-yum-${prefix}`));
  created.add(dir);
  return dir;
}

/** Removes every directory `makeTempDir` made in this process (they can hold root-owned installroots). */
export async function cleanupTempDirs(): Promise<void> {
  const dirs = [...created];
  created.clear();
  const resources = cleanups.splice(0);
  await Promise.all(resources.map((fn) => fn()));
  if (process.env.BESKARYUM_TEST_KEEP_TMP === "1") {
    if (dirs.length > 0) console.log(`kept temporary directories:\n  ${dirs.join("\n  ")}`);
    return;
  }
  await Promise.all(dirs.map((dir) => fs.promises.rm(dir, { recursive: true, force: true, maxRetries: 3 })));
}
