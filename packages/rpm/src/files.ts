import type { RpmHeader } from "./header-reader.js";
import { Tag } from "./tags.js";

export type RpmFileType = "file" | "dir" | "ghost";

/** A file entry, path still a binary string. */
export interface RawFile {
  path: string;
  type: RpmFileType;
}

const S_IFMT = 0o170000;
const S_IFDIR = 0o040000;
const RPMFILE_GHOST = 1 << 6;

/** Directory + base name lists, from the compressed file list or a legacy OLDFILENAMES one. */
export function fileNameLists(
  header: RpmHeader,
): { dirs: string[]; bases: string[]; indexes: number[] } | undefined {
  const bases = header.strings(Tag.BASENAMES);
  if (bases) {
    const dirs = header.strings(Tag.DIRNAMES);
    const indexes = header.numbers(Tag.DIRINDEXES);
    if (!dirs || !indexes) return undefined;
    return { dirs, bases, indexes };
  }
  // rpm converts a legacy uncompressed list on read (HEADERCONV_COMPRESSFILELIST).
  const old = header.strings(Tag.OLDFILENAMES);
  if (!old) return undefined;
  // rpm's compressFilelist: a list not starting with "/" is a source package's, all in "".
  if (!old[0]?.startsWith("/")) return { dirs: [""], bases: old, indexes: old.map(() => 0) };
  const dirs: string[] = [];
  const dirIndex = new Map<string, number>();
  const out = { dirs, bases: [] as string[], indexes: [] as number[] };
  for (const path of old) {
    const slash = path.lastIndexOf("/");
    const dir = path.slice(0, slash + 1);
    let index = dirIndex.get(dir);
    if (index === undefined) {
      index = dirs.length;
      dirs.push(dir);
      dirIndex.set(dir, index);
    }
    out.bases.push(path.slice(slash + 1));
    out.indexes.push(index);
  }
  return out;
}

/**
 * All files in header order, classified as createrepo_c does: a directory mode makes "dir",
 * else the %ghost flag makes "ghost". Like createrepo_c, a package missing any of the file
 * tags has no files; inconsistent file tags (counts, directory indexes) are a corrupt header.
 */
export function collectFiles(header: RpmHeader): RawFile[] {
  const names = fileNameLists(header);
  const flags = header.numbers(Tag.FILEFLAGS);
  const modes = header.numbers(Tag.FILEMODES);
  if (!names || !flags || !modes) return [];
  const { dirs, bases, indexes } = names;
  const n = bases.length;
  for (const [tag, len] of [
    [Tag.DIRINDEXES, indexes.length],
    [Tag.FILEFLAGS, flags.length],
    [Tag.FILEMODES, modes.length],
  ] as const) {
    if (len !== n) {
      throw header.bad(`tag ${header.tagName(tag)} has ${len} values for ${n} files`, {
        tag,
        offset: header.dataOffset(tag),
      });
    }
  }
  const files: RawFile[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const dirIndex = indexes[i]!;
    const dir = dirs[dirIndex];
    if (dir === undefined) {
      throw header.bad(
        `tag ${header.tagName(Tag.DIRINDEXES)}: file ${i} refers to directory ${dirIndex}, only ${dirs.length} exist`,
        { tag: Tag.DIRINDEXES, offset: header.dataOffset(Tag.DIRINDEXES) },
      );
    }
    const mode = modes[i]!;
    const type: RpmFileType =
      (mode & S_IFMT) === S_IFDIR ? "dir" : flags[i]! & RPMFILE_GHOST ? "ghost" : "file";
    files[i] = { path: dir + bases[i]!, type };
  }
  return files;
}
