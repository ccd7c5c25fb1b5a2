import { readdir, readFile, rename, rm, unlink } from "node:fs/promises";
import { join } from "node:path";
import { parseRepomd, type RepomdRecord, syncDirectory } from "@beskar-yum/repodata";

/** Names of metadata files createrepo tools generate: `<hex checksum>-<kind>.<xml|sqlite>[.<compression>]`. */
const GENERATED =
  /^[0-9a-f]{32,128}-(primary|filelists|other)(\.xml|\.sqlite)(\.gz|\.bz2|\.xz|\.zst|\.zck)?$/;

export interface SwapResult {
  /** Files removed from repodata/ because nothing references them any more. */
  removed: string[];
}

/**
 * Puts the generation written in `work` (metadata files + repomd.xml) in place as
 * `<dir>/repodata` so that a reader always sees a complete repository:
 * - no repodata/ yet: `work` is renamed to it in one step;
 * - otherwise the new files are moved in first (their names are unique checksums, so no
 *   file the current repomd.xml references is touched), then repomd.xml is replaced by one
 *   rename — the switch — and only then are the files of older generations removed: those
 *   the old repomd.xml referenced and the new one does not (as createrepo_c does; see
 *   `--keep-all-metadata`), and stray primary/filelists/other files of interrupted runs.
 *   Files no repomd.xml names stay. A repomd.xml.asc that signed the old repomd.xml is
 *   removed too: it cannot match the new one.
 */
export async function swapRepodata(dir: string, work: string, records: RepomdRecord[]): Promise<SwapResult> {
  const target = join(dir, "repodata");
  const existing = await readdir(target).catch((err: NodeJS.ErrnoException) => {
    if (err.code === "ENOENT") return undefined;
    throw err;
  });
  if (existing === undefined) {
    await rename(work, target);
    await syncDirectory(dir);
    return { removed: [] };
  }
  const oldRepomd = await readFile(join(target, "repomd.xml"), "utf8").catch(() => undefined);
  const newRepomd = await readFile(join(work, "repomd.xml"), "utf8");
  const moved: string[] = [];
  try {
    for (const name of await readdir(work)) {
      if (name === "repomd.xml") continue;
      await rename(join(work, name), join(target, name));
      moved.push(name);
    }
    await syncDirectory(target);
    await rename(join(work, "repomd.xml"), join(target, "repomd.xml"));
  } catch (err) {
    // Not switched: take back what we moved unless the current repomd.xml uses it.
    const keep = new Set(referencedNames(oldRepomd));
    await Promise.all(moved.filter((n) => !keep.has(n)).map((n) => unlink(join(target, n)).catch(() => {})));
    throw err;
  }
  await syncDirectory(target);
  const referenced = new Set(records.map((r) => r.location.replace(/^repodata\//, "")));
  const before = new Set(referencedNames(oldRepomd));
  const removed = existing.filter(
    (name) => (GENERATED.test(name) || before.has(name)) && !referenced.has(name) && name !== "repomd.xml",
  );
  if (oldRepomd !== undefined && oldRepomd !== newRepomd && existing.includes("repomd.xml.asc")) {
    removed.push("repomd.xml.asc");
  }
  await Promise.all(removed.map((n) => unlink(join(target, n)).catch(() => {})));
  await rm(work, { recursive: true, force: true });
  return { removed };
}

function referencedNames(repomd: string | undefined): string[] {
  if (repomd === undefined) return [];
  try {
    return parseRepomd(repomd).records.map((r) => r.location.replace(/^repodata\//, ""));
  } catch {
    return [];
  }
}
