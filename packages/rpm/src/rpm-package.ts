import type { DependencyFlag } from "./dependency-flags.js";

/** A dependency as it appears in primary.xml (`<rpm:entry>`). */
export interface RpmDependency {
  name: string;
  /** Comparison; epoch/version/release are only written to XML when this is set. */
  flags?: DependencyFlag;
  /** "0" when the version string has a version but no epoch (createrepo_c's rule). */
  epoch?: string;
  version?: string;
  release?: string;
  /** Requires only: a PREREQ or %pre/%post requirement (`pre="1"`). */
  pre?: boolean;
}

export interface RpmFile {
  path: string;
  type: "file" | "dir" | "ghost";
}

export interface RpmChangelog {
  author: string;
  /** Unix seconds, after createrepo_c's de-duplication of equal timestamps. */
  date: number;
  text: string;
}

export interface RpmSignatureSummary {
  /** Issuer key id of the signature rpm would show, 16 lowercase hex digits. */
  keyId?: string;
  /** As `rpm -qi` shows it (UTC): "RSA/SHA256, Tue Apr 27 18:50:59 2021, Key ID 15af5dac6d745a60". */
  description?: string;
}

/**
 * Everything createrepo_c writes about a package, read from its headers. Strings are decoded
 * the way createrepo_c hands them to libxml2 (UTF-8 when it looks like UTF-8, else latin1);
 * absent optional tags are "" or 0.
 */
export interface RpmPackage {
  name: string;
  epoch: number;
  version: string;
  release: string;
  /** As createrepo_c writes it in primary: "src" for source RPMs. */
  arch: string;
  isSource: boolean;
  summary: string;
  description: string;
  url: string;
  license: string;
  vendor: string;
  group: string;
  buildhost: string;
  sourceRpm: string;
  packager: string;
  buildTime: number;
  installedSize: number;
  archiveSize: number;
  /** `rpm:header-range`: offset of the main header and of its end. */
  headerStart: number;
  headerEnd: number;
  provides: RpmDependency[];
  requires: RpmDependency[];
  conflicts: RpmDependency[];
  obsoletes: RpmDependency[];
  suggests: RpmDependency[];
  enhances: RpmDependency[];
  recommends: RpmDependency[];
  supplements: RpmDependency[];
  /** All files in header order. */
  files: RpmFile[];
  /** In the order createrepo_c writes them to other.xml (oldest first, limited, see `changelogLimit`). */
  changelogs: RpmChangelog[];
  signature: RpmSignatureSummary;
}
