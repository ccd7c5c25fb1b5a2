export interface RepomdChecksum {
  /** "sha256", "sha1", "sha512", ... as written in `type=`. */
  type: string;
  /** Lowercase hex digest. */
  value: string;
}

/** One `<data>` entry of repomd.xml. */
export interface RepomdRecord {
  /** "primary", "filelists", "other", "primary_db", "updateinfo", ... */
  type: string;
  /** Checksum of the file as stored (compressed). */
  checksum: RepomdChecksum;
  /** Checksum of the uncompressed content. */
  openChecksum?: RepomdChecksum;
  /** zchunk header checksum. */
  headerChecksum?: RepomdChecksum;
  /** `location href`, e.g. "repodata/<sha256>-primary.xml.gz". */
  location: string;
  /** `location xml:base`. */
  locationBase?: string;
  /** Unix seconds. */
  timestamp: number;
  size: number;
  openSize?: number;
  headerSize?: number;
  /** Written for `*_db` types (createrepo_c: 10). */
  databaseVersion?: number;
}

export interface RepomdDistroTag {
  cpeid?: string;
  name: string;
}

/** `<tags>` of repomd.xml. */
export interface RepomdTags {
  content?: string[];
  repo?: string[];
  distro?: RepomdDistroTag[];
}

export interface Repomd {
  revision?: string;
  tags?: RepomdTags;
  records: RepomdRecord[];
}
