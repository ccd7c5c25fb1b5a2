/** Where and what a package file is, for the per-package metadata fragments. */
export interface PackageLocation {
  /** `location href`, relative to the repository root (e.g. `Packages/f/foo-1-1.noarch.rpm`). */
  href: string;
  /** Optional `xml:base` of the location (createrepo_c's `--baseurl`); an absolute path gets `file://`. */
  base?: string;
  /** Checksum of the whole file in `checksumType` (the package id). */
  pkgid: string;
  checksumType: "sha256" | "sha1" | "sha512";
  /** File size in bytes (`size package`). */
  fileSize: number;
  /** File modification time, unix seconds (`time file`). */
  fileTime: number;
}
