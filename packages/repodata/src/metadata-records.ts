import { type DependencyKind, dependencyKinds } from "@beskar-yum/rpm";
/** `<version epoch ver rel>` as written (createrepo_c always writes all three). */
export interface RecordVersion {
  epoch: string;
  ver: string;
  rel: string;
}

/** `<file type>`: no type attribute is a regular file. */
export type RecordFileType = "file" | "dir" | "ghost";

export interface RecordFile {
  path: string;
  type: RecordFileType;
}

/** One `<rpm:entry>`: absent attributes are left out. */
export interface RecordDependency {
  name: string;
  flags?: string;
  epoch?: string;
  ver?: string;
  rel?: string;
  /** `pre="1"` (requires only). */
  pre?: boolean;
}

/** The dependency kinds, in createrepo_c's order (the rpm package's list). */
export { dependencyKinds };
export type RecordDependencyKind = DependencyKind;

/** One `<package>` of primary.xml, every field createrepo_c writes. */
export interface PrimaryRecord {
  /** `<package type>`: "rpm". */
  type: string;
  name: string;
  arch: string;
  version: RecordVersion;
  /** `<checksum pkgid="YES">` text. */
  pkgid: string;
  checksumType: string;
  summary: string;
  description: string;
  packager: string;
  url: string;
  time: { file: number; build: number };
  size: { package: number; installed: number; archive: number };
  location: { href: string; base?: string };
  license: string;
  vendor: string;
  group: string;
  buildhost: string;
  sourcerpm: string;
  headerRange: { start: number; end: number };
  dependencies: Record<RecordDependencyKind, RecordDependency[]>;
  /** The primary file list (`/etc/`, `*bin/`, `/usr/lib/sendmail`). */
  files: RecordFile[];
}

/** One `<package>` of filelists.xml. */
export interface FilelistsRecord {
  pkgid: string;
  name: string;
  arch: string;
  version: RecordVersion;
  files: RecordFile[];
}

export interface ChangelogRecord {
  author: string;
  /** Unix seconds. */
  date: number;
  text: string;
}

/** One `<package>` of other.xml. */
export interface OtherRecord {
  pkgid: string;
  name: string;
  arch: string;
  version: RecordVersion;
  changelogs: ChangelogRecord[];
}
