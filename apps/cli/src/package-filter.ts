/** The fields of a package list item that the filters look at. */
export interface PackageListItem {
  name: string;
  version: string;
  release: string;
  architecture: string;
}

export interface PackageFilter {
  /** Exact name. */
  name?: string | undefined;
  /** Exact architecture (x86_64, noarch, src...). */
  arch?: string | undefined;
  /** Case-insensitive substring of name-version-release.arch. */
  search?: string | undefined;
}

export function nevra(p: PackageListItem): string {
  return `${p.name}-${p.version}-${p.release}.${p.architecture}`;
}

/** Whether a package passes every filter given (the package list API has none: they run here). */
export function matchesPackage(p: PackageListItem, filter: PackageFilter): boolean {
  if (filter.name !== undefined && p.name !== filter.name) return false;
  if (filter.arch !== undefined && p.architecture !== filter.arch) return false;
  if (filter.search !== undefined && !nevra(p).toLowerCase().includes(filter.search.toLowerCase()))
    return false;
  return true;
}
