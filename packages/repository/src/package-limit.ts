import { YumError } from "@beskar-yum/errors";
import type { RepoIndex } from "@beskar-yum/storage";

/** What the check reads: an index, or an event's transaction (the check and the write in one). */
type PackageCounts = Pick<RepoIndex, "getPackageByTag" | "countPackages" | "maxPackages">;

/**
 * The error of a package that would take a repository beyond `limits.max_packages_per_repository`
 * (`RepoIndex.maxPackages`), or undefined when it fits: a package replacing one of its tag (same
 * name, version, release, arch) always does.
 */
export async function packageLimitProblem(
  index: PackageCounts,
  repository: string,
  tag: string,
): Promise<string | undefined> {
  if (await index.getPackageByTag(tag)) return undefined;
  return newPackageLimitProblem(index, repository);
}

/** `packageLimitProblem` for a package whose tag the caller just found absent (one query fewer). */
export async function newPackageLimitProblem(
  index: Pick<PackageCounts, "countPackages" | "maxPackages">,
  repository: string,
): Promise<string | undefined> {
  const count = await index.countPackages();
  if (count < index.maxPackages) return undefined;
  return `repository ${repository} has ${count} packages, the most limits.max_packages_per_repository allows (${index.maxPackages}): remove packages first`;
}

/** Refuses (400 REPO_PACKAGE_LIMIT) a new package beyond the repository's package limit. */
export async function assertRoomForPackage(index: RepoIndex, repository: string, tag: string): Promise<void> {
  const problem = await packageLimitProblem(index, repository, tag);
  if (problem) throw new YumError("REPO_PACKAGE_LIMIT", problem, { repository, limit: index.maxPackages });
}
