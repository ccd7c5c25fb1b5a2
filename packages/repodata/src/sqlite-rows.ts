import type { FilelistsRecord, RecordFile } from "./metadata-records.js";

/** One `filelist` row of filelists.sqlite without its pkgKey. */
export interface FilelistRow {
  dirname: string;
  filenames: string;
  filetypes: string;
}

const typeLetter: Record<RecordFile["type"], string> = { file: "f", dir: "d", ghost: "g" };

/**
 * A package's files grouped by directory as createrepo_c stores them: names joined by "/",
 * one type letter each (f, d, g), the directory without trailing slashes ("." when a path has
 * none, "/" for the root), groups in order of first appearance.
 */
export function filelistRows(files: FilelistsRecord["files"]): FilelistRow[] {
  const groups = new Map<string, { names: string[]; types: string }>();
  for (const f of files) {
    const cut = f.path.lastIndexOf("/") + 1;
    const dir = f.path.slice(0, cut);
    const name = f.path.slice(cut);
    let g = groups.get(dir);
    if (!g) {
      g = { names: [], types: "" };
      groups.set(dir, g);
    }
    g.names.push(name === "" ? "/" : name);
    g.types += typeLetter[f.type];
  }
  const rows: FilelistRow[] = [];
  for (const [dir, g] of groups) {
    let end = dir.length;
    while (end > 1 && dir[end - 1] === "/") end--;
    rows.push({
      dirname: end === 0 ? "." : dir.slice(0, end),
      filenames: g.names.join("/"),
      filetypes: g.types,
    });
  }
  return rows;
}
