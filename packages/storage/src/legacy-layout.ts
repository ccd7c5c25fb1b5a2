import type { Dirent } from "node:fs";
import { mkdir, readdir, readFile, rename, rm, rmdir, stat, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { writeFileAtomic } from "./atomic-file.js";
import { REPOSITORIES_DIR, repositoryKey } from "./repository-layout.js";

/** What `migrateLegacyLayout` reports to the process log. */
export interface LayoutLog {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
}

export interface LayoutMigration {
  migrated: string[];
  skipped: { repository: string; reason: string }[];
}

/** Files and folders of one repository in the previous layout; the index goes last (see below). */
const movedFolders = ["blobs", "repodata"];
const indexFiles = ["index.db-wal", "index.db-shm", "index.db"];

/** Written once the previous layout is gone (nothing left to move): later starts skip the walk. */
export const LAYOUT_MARKER = ".beskar-yum-layout";

/**
 * Moves repositories of the previous layout out of one another. It kept `artifacts/yum/<name>/` with
 * `<name>` as nested folders, so `hosted/repodata`'s index, blobs and repodata lived inside
 * `hosted`'s served `repodata/` folder; each now goes to `artifacts/yum/<key>/` (`hosted+repodata`).
 * Names of one segment are where they were. Deepest names first, so that a repository nested in
 * another's folder leaves that folder before anything else happens to it. Each step is a rename, the
 * index last: a repository appears in the new layout only once all of it is there, and the API and a
 * worker starting together can both run this (the loser of each rename sees ENOENT and moves on).
 * A name whose new directory holds an index already is left where it is and reported (every start,
 * until resolved). Folders the moves emptied are removed.
 */
export async function migrateLegacyLayout(base: string, log?: LayoutLog): Promise<LayoutMigration> {
  const result: LayoutMigration = { migrated: [], skipped: [] };
  await migrateTombstoneNames(join(base, "_registry_tombstones_"));
  if (await exists(join(base, LAYOUT_MARKER))) return result;
  const legacyRoot = join(base, ...REPOSITORIES_DIR.split("/"));
  const nested: string[] = [];
  const walk = async (dir: string, rel: string, depth: number): Promise<void> => {
    let entries: Dirent[];
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch {
      return;
    }
    if (rel.includes("/") && entries.some((e) => e.isFile() && e.name === "index.db")) nested.push(rel);
    if (depth >= 64) return;
    for (const e of entries) {
      // Keys of this layout (with "+") hold no nested names: nothing of the previous layout below them.
      if (e.isDirectory() && !(depth === 0 && e.name.includes("+")))
        await walk(join(dir, e.name), rel ? `${rel}/${e.name}` : e.name, depth + 1);
    }
  };
  await walk(legacyRoot, "", 0);

  nested.sort((a, b) => b.split("/").length - a.split("/").length || a.localeCompare(b));
  for (const rel of nested) {
    const repository = `${REPOSITORIES_DIR}/${rel}`;
    const from = join(legacyRoot, rel);
    let to: string;
    try {
      to = join(legacyRoot, repositoryKey(repository));
    } catch {
      result.skipped.push({ repository, reason: "not a valid repository name" });
      continue;
    }
    if (await exists(join(to, "index.db"))) {
      result.skipped.push({ repository, reason: `${to} holds a repository of that name already` });
      continue;
    }
    await mkdir(to, { recursive: true });
    let moved = false;
    for (const name of [...movedFolders, ...indexFiles])
      moved = await moveIfThere(join(from, name), join(to, name));
    // Reported by the process that moved the index (the last step).
    if (moved) result.migrated.push(repository);
    // Its old folder and the parents it alone kept (team/ of team/el9), when empty now.
    for (let dir = from; dir.startsWith(`${legacyRoot}/`); dir = dirname(dir)) {
      if (
        !(await rmdir(dir).then(
          () => true,
          () => false,
        ))
      )
        break;
    }
  }
  if (result.skipped.length === 0) {
    await mkdir(base, { recursive: true });
    await writeFile(join(base, LAYOUT_MARKER), "2\n").catch(() => undefined);
  }

  if (result.migrated.length > 0)
    log?.info({ repositories: result.migrated }, "storage: nested repositories moved out of one another");
  for (const skip of result.skipped)
    log?.warn(skip, "storage: a repository of the previous layout was left where it is");
  return result;
}

/** rename, where a source already moved (by a process migrating at the same time) is not an error: false. */
async function moveIfThere(from: string, to: string): Promise<boolean> {
  try {
    await rename(from, to);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    return false;
  }
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/**
 * Registry tombstones were named `encodeURIComponent(name).json`, which grows 3 bytes per `/` (a long
 * name overflowed the 255-byte file name limit); they are named by the repository key now. A
 * tombstone of the same name already under the new name gets the old one's manifests added.
 */
async function migrateTombstoneNames(dir: string): Promise<void> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return;
  }
  for (const name of names.filter((n) => n.endsWith(".json") && n.includes("%"))) {
    let key: string;
    try {
      key = repositoryKey(decodeURIComponent(name.slice(0, -5)));
    } catch {
      continue;
    }
    const from = join(dir, name);
    const to = join(dir, `${key}.json`);
    try {
      const old = JSON.parse(await readFile(from, "utf8")) as { repository: string; manifests: unknown[] };
      const current = await readFile(to, "utf8").then(
        (text) => JSON.parse(text) as { manifests: unknown[] },
        () => undefined,
      );
      if (current) {
        await writeFileAtomic(
          to,
          JSON.stringify({ repository: old.repository, manifests: [...current.manifests, ...old.manifests] }),
        );
        await rm(from, { force: true });
      } else {
        await moveIfThere(from, to);
      }
    } catch {
      // Unreadable or moved by a process migrating at the same time: left for the next start.
    }
  }
}
