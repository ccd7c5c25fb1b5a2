import { randomBytes } from "node:crypto";
import { type FileHandle, mkdir, open, readdir, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { YumError } from "@beskar-yum/errors";

const LOCK = ".repodata.lock";
const TMP_PREFIX = ".repodata.tmp-";

/**
 * Holds `<dir>/.repodata.lock` (our pid inside) so two runs never write the same repodata at
 * once; a lock left by a process that no longer exists is taken over. Returns the release.
 */
export async function lockRepository(dir: string): Promise<() => Promise<void>> {
  const path = join(dir, LOCK);
  for (let attempt = 0; ; attempt++) {
    let handle: FileHandle | undefined;
    try {
      handle = await open(path, "wx", 0o644);
      await handle.writeFile(`${process.pid}\n`);
      await handle.close();
      return async () => {
        await rm(path, { force: true });
      };
    } catch (err) {
      await handle?.close().catch(() => {});
      if ((err as NodeJS.ErrnoException).code !== "EEXIST" || attempt > 0) throw err;
      const owner = Number.parseInt(await readFile(path, "utf8").catch(() => ""), 10);
      if (Number.isInteger(owner) && owner > 0 && isAlive(owner)) {
        throw new YumError(
          "UNAVAILABLE",
          `another createrepo (pid ${owner}) is writing ${dir}/repodata; remove ${path} if it is gone`,
          { lock: path, pid: owner },
        );
      }
      await rm(path, { force: true });
    }
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** A fresh `<dir>/.repodata.tmp-XXXXXX`, after removing those left by interrupted runs (we hold the lock). */
export async function makeWorkDirectory(dir: string): Promise<string> {
  const stale = (await readdir(dir)).filter((n) => n.startsWith(TMP_PREFIX));
  await Promise.all(stale.map((n) => rm(join(dir, n), { recursive: true, force: true })));
  // mkdir, not mkdtemp: the directory becomes repodata/ and must get the umask's mode, not 0700.
  const work = join(dir, `${TMP_PREFIX}${randomBytes(6).toString("hex")}`);
  await mkdir(work);
  return work;
}
