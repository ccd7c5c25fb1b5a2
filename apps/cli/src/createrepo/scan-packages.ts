import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";

/** An RPM found under the repository directory. */
export interface PackageFile {
  /** `location href`: the path relative to the repository directory, with `/`. */
  href: string;
  size: number;
  /** Modification time, unix seconds (`time file`). */
  mtime: number;
}

/** Top-level entries createrepo leaves alone: the metadata itself and our and createrepo_c's work dirs. */
export function isWorkDirectory(name: string): boolean {
  return name === "repodata" || name === ".repodata" || name.startsWith(".repodata.");
}

interface Found extends PackageFile {
  name: string;
  dir: string;
}

/** UTF-16 code unit order is UTF-8 byte order for strings without surrogates. */
const SURROGATE = /[\ud800-\udfff]/;

/**
 * Every `*.rpm` regular file (symlinks followed) under `dir`, recursively, except in
 * `<dir>/repodata` and work directories, in createrepo_c's order: by file name, then by
 * directory, both compared bytewise (`g_strcmp0`). Symlinked directories are followed as
 * createrepo_c does, each directory entered once (by device and inode), so a link loop
 * cannot make the walk endless. Synchronous: one `stat` per entry.
 */
export function scanPackages(dir: string): PackageFile[] {
  const found: Found[] = [];
  let surrogates = false;
  const seen = new Set<string>();
  const visited = (dev: number, ino: number) => {
    const key = `${dev}:${ino}`;
    if (seen.has(key)) return true;
    seen.add(key);
    return false;
  };
  const top = statSync(dir);
  visited(top.dev, top.ino);
  const walk = (rel: string) => {
    const abs = rel === "" ? dir : join(dir, rel);
    // Names only: every RPM is stat'ed anyway (size, mtime, and whether it is a file), and so
    // is anything else, to find the directories.
    let names: string[];
    try {
      names = readdirSync(abs);
    } catch (err) {
      if (rel === "") throw err;
      process.emitWarning(`cannot read directory ${abs}: ${(err as Error).message}`);
      return;
    }
    const prefix = rel === "" ? `${dir}/` : `${dir}/${rel}/`;
    for (const name of names) {
      if (rel === "" && isWorkDirectory(name)) continue;
      const st = statSync(prefix + name, { throwIfNoEntry: false });
      if (!st) continue;
      if (st.isDirectory()) {
        // Symlinked directories too (stat follows links), as createrepo_c does.
        if (!visited(st.dev, st.ino)) walk(rel === "" ? name : `${rel}/${name}`);
        continue;
      }
      if (!name.endsWith(".rpm") || !st.isFile()) continue;
      if (SURROGATE.test(name) || SURROGATE.test(rel)) surrogates = true;
      found.push({
        href: rel === "" ? name : `${rel}/${name}`,
        size: st.size,
        mtime: Math.floor(st.mtimeMs / 1000),
        name,
        dir: rel,
      });
    }
  };
  walk("");
  const compare = surrogates
    ? (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b))
    : (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  found.sort((a, b) => compare(a.name, b.name) || compare(a.dir, b.dir));
  return found.map(({ href, size, mtime }) => ({ href, size, mtime }));
}
