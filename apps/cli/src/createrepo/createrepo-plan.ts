import type { ChecksumType } from "./createrepo-options.js";
import type { OldRepodata } from "./old-repodata.js";
import type { PackageFile } from "./scan-packages.js";

/** A package of the new generation: its file, and its index in the old repodata when that is still right. */
export interface PlannedPackage {
  file: PackageFile;
  old?: number;
}

export interface CreaterepoPlan {
  /** In output order. */
  packages: PlannedPackage[];
  /** How many must be read from disk. */
  toParse: number;
  reused: number;
  /** Packages of the old repodata whose file is gone. */
  removed: number;
}

/** What the plan needs of the previous repodata. */
export type OldPackages = Pick<OldRepodata, "byHref" | "count" | "isCurrent">;

/**
 * createrepo_c 0.17's `--update` rule: a package's old metadata is reused when the old
 * repodata has one at the same `location href` with the same `size package`, `time file`
 * (mtime, seconds) and checksum type. We also re-read those written with an `xml:base`, since
 * this run writes none. Pure: decides, reads nothing.
 */
export function planPackages(
  files: PackageFile[],
  old: OldPackages | undefined,
  checksum: ChecksumType,
): CreaterepoPlan {
  let reused = 0;
  let stillThere = 0;
  const packages = files.map((file): PlannedPackage => {
    const i = old?.byHref.get(file.href);
    if (i === undefined) return { file };
    stillThere++;
    if (!old!.isCurrent(i, file.size, file.mtime, checksum)) return { file };
    reused++;
    return { file, old: i };
  });
  return { packages, toParse: packages.length - reused, reused, removed: (old?.count ?? 0) - stillThere };
}
