import type { PackageRecord, RepoIndex } from "@beskar-yum/storage";

/**
 * The href a package request names: the path after `/<repository>/repo/` (query left out),
 * percent-decoded as dnf's hrefs are written in primary.xml; undefined when it cannot be decoded.
 */
export function requestedHref(url: string, repository: string): string | undefined {
  const path = url.split("?")[0]!;
  const prefix = `/${repository}/repo/`;
  if (!path.startsWith(prefix)) return undefined;
  try {
    return decodeURIComponent(path.slice(prefix.length));
  } catch {
    return undefined;
  }
}

export type PackageLookup = { record: PackageRecord } | { retired: { id: string } } | undefined;

/**
 * Which package a request for `href` (file name `fileName`) is served: the package at that href
 * first, so that packages of one file name in several folders of a mirror (debug and non-debug,
 * two arches' noarch copies) are each served at their own href; a package retired from that href
 * (clients of the previous repodata generation); then, by file name alone, Beskar's route
 * (`/repo/<any path>/<file name>`, which hosted hrefs `Packages/<letter>/<file>` and uploads'
 * `Packages/<file>` also reach), the first package of that name by href, or one retired under it.
 */
export async function lookupPackage(
  index: RepoIndex,
  href: string | undefined,
  fileName: string,
): Promise<PackageLookup> {
  if (href !== undefined) {
    const record = await index.getPackageByHref(href);
    if (record) return { record };
    const retired = await index.getRetiredPackageByHref(href);
    if (retired) return { retired };
  }
  const record = await index.getPackageByFileName(fileName);
  if (record) return { record };
  const retired = await index.getRetiredPackage(fileName);
  return retired ? { retired } : undefined;
}
