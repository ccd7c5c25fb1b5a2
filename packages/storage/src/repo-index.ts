import type { RegistryRecords } from "./registry-records.js";

/**
 * The durable state of one repository: its properties, its queue of pending events, its packages
 * (with their pre-rendered XML fragments), its publish state and its logs. Redis holds none of this.
 *
 * The embedded implementation is SQLite on the local disk (`SqliteRepoIndex`); `PostgresRepoIndex`
 * keeps it in a shared PostgreSQL database (`index.driver: postgres`). The contract is asynchronous
 * for the network database's sake; SQLite answers at once.
 */
/** One row of `RepoIndex.listPackageChecksums`. */
export interface PackageChecksum {
  href: string;
  tag: string;
  /** `<type>:<hex>` as upstream's primary.xml gave it (mirrors only). */
  upstreamChecksum?: string;
}

export interface RepoIndex {
  readonly path: string;
  /** What the repository has in the OCI registry replica, when one is configured. */
  readonly registry: RegistryRecords;

  getRepository(): Promise<RepositoryRecord | undefined>;
  createRepository(properties: RepositoryProperties, now: number): Promise<void>;
  updateRepository(properties: RepositoryProperties): Promise<void>;
  setDeleting(deleting: boolean): Promise<void>;

  /** Appends an event; its sequence number orders it against every other event of the repository. */
  appendEvent(event: RepoEvent, now: number): Promise<number>;
  pendingEvents(limit: number): Promise<StoredEvent[]>;
  hasPendingEvents(): Promise<boolean>;
  /** Outcome of an applied event: undefined while pending, `null` when it succeeded, else the error text. */
  eventOutcome(seq: number): Promise<string | null | undefined>;

  /**
   * Runs `apply` inside one transaction that also records `seq` as applied. `fence` is the lock's
   * fencing token: a writer whose token is older than the newest one seen is refused (LOCK_LOST),
   * checked in that same transaction. `apply` must do nothing but `tx` calls (no other I/O): the
   * transaction is open while it runs.
   */
  applyEvent(
    seq: number,
    fence: number,
    apply: (tx: IndexTransaction) => Promise<EventResult>,
  ): Promise<EventResult>;

  getState(): Promise<PublishState>;
  /**
   * The repomd.xml texts replaced at or after `since` (unix seconds) whose text contains `fileName`
   * (e.g. `<sha>-primary.xml.gz`), newest first: the files of a superseded generation stay servable
   * for the grace period. Callers parse them to confirm that a location names it.
   */
  retiredRepomdNaming(fileName: string, since: number): Promise<string[]>;
  /**
   * Records a finished publish; refused like `applyEvent` when `fence` is stale. Its duration goes
   * into the stats and `log` (an INFO line) into the log, in the same transaction.
   */
  recordPublish(fence: number, publish: PublishRecord): Promise<void>;
  /** Marks everything applied as published without writing files (nothing changed since the last publish). */
  markPublished(fence: number, seq: number): Promise<void>;

  getPackageById(id: string): Promise<PackageRecord | undefined>;
  getPackageByTag(tag: string): Promise<PackageRecord | undefined>;
  /**
   * The package at `href` (its location in primary.xml): rows are keyed by href, so that a mirror
   * keeps every package of upstream's, also two of one file name in two folders.
   */
  getPackageByHref(href: string): Promise<PackageRecord | undefined>;
  /** The first package (by href) of that file name: Beskar's route, `/repo/<any path>/<file name>`. */
  getPackageByFileName(fileName: string): Promise<PackageRecord | undefined>;
  listPackages(): Promise<PackageRecord[]>;
  /**
   * What a mirror sync compares with upstream's primary.xml, without the XML fragments that
   * `listPackages` loads (most of a row's size): href, upstream checksum, tag.
   */
  listPackageChecksums(): Promise<PackageChecksum[]>;
  /** Where every package is served and which blob it is (`http.front_tree`): href and id only. */
  listPackageBlobs(): Promise<{ href: string; id: string }[]>;
  /**
   * A page of packages without their XML fragments, in (href, tag) order, after `after` (keyset:
   * the cost of a page does not grow with where it starts).
   */
  listPackageSummaries(limit: number, after?: PackageCursor): Promise<PackageSummary[]>;
  /** `limits.max_packages_per_repository`: uploads and syncs that would go beyond it are refused. */
  readonly maxPackages: number;
  countPackages(): Promise<number>;
  /** Fragments in location order, without loading every row into memory at once. */
  iterateFragments(kind: FragmentKind): AsyncIterableIterator<string>;
  /**
   * A package removed or replaced by an applied event, by file name: clients still reading the
   * previous repodata generation may ask for it. Its blob lives for the grace period.
   */
  getRetiredPackage(fileName: string): Promise<{ id: string } | undefined>;
  /** `getRetiredPackage` by the href it had (rows retired before hrefs were recorded have none). */
  getRetiredPackageByHref(href: string): Promise<{ id: string } | undefined>;
  /** Forgets packages retired before `before` (unix seconds). */
  pruneRetiredPackages(before: number): Promise<void>;
  /** Digests still referenced by a package or an extra metadata file. */
  referencedDigests(): Promise<Set<string>>;
  /** Extra metadata files (comps, updateinfo, modules, ...) listed in repomd.xml beside ours. */
  listExtraMetadata(): Promise<ExtraMetadataRecord[]>;

  getSyncState(): Promise<SyncState>;
  /** Marks a sync as started, unless one is running already (then returns false and changes nothing). */
  beginSync(now: number): Promise<boolean>;
  updateSyncState(patch: Partial<Omit<SyncState, "syncing" | "startTime">>): Promise<void>;
  /**
   * Ends the running sync (`error` empty when it succeeded), counts it in the stats, and writes
   * `end.log` (ERROR when `error` is set, else INFO) in the same transaction. The duration is
   * `end.durationMs`, else the whole seconds since the sync began.
   */
  endSync(now: number, error: string, end?: { durationMs?: number; log?: string }): Promise<void>;
  /**
   * Sets package rows of the mirror generation being built aside (fenced), a batch at a time as a
   * sync stores them, so that a sync of any size holds no more than a batch of rows in memory.
   * They are not served until `commitMirrorGeneration` switches them in.
   */
  stagePackages(fence: number, records: PackageRecord[]): Promise<void>;
  /** Forgets the rows staged by an earlier sync that did not commit (it crashed, or failed). */
  clearStagedPackages(fence: number): Promise<void>;
  /**
   * Switches a mirror to a new generation in one fenced transaction: every staged package row
   * (and `upsert`), the removals, and the upstream repomd.xml (and signature) that lists them.
   */
  commitMirrorGeneration(fence: number, generation: MirrorGeneration): Promise<void>;
  /**
   * The same, without blocking the event loop for a large generation (the switch of hundreds of
   * thousands of rows takes seconds: it runs on a thread of its own, where the implementation can).
   */
  commitMirrorGenerationAsync(
    fence: number,
    generation: MirrorGeneration,
    options?: { offThreadRows?: number },
  ): Promise<void>;

  addLog(level: LogLevel, message: string, now: number): Promise<void>;
  listLogs(): Promise<LogRecord[]>;
  /** Totals of syncs and publishes (`/metrics`), kept with the rest of the repository's state. */
  getStats(): Promise<RepositoryStats>;
  /** A page of log lines, oldest first, after the line numbered `afterId` (keyset). */
  listLogsPage(limit: number, afterId?: number): Promise<LogPage>;
  /**
   * The newest `limit` log lines numbered at most `atMostId` (all of them without it), oldest first:
   * the page before a keyset position, or the log's last page, in one query.
   */
  listLogsPageBefore(limit: number, atMostId?: number): Promise<LogPage>;

  close(): void;
}

export type FragmentKind = "primary" | "filelists" | "other";
export type LogLevel = "INFO" | "ERROR";

export interface RepositoryProperties {
  mirror: boolean;
  mirror_urls: string[];
  /** Armored public key(s), as text. */
  gpg_key: string;
  [key: string]: unknown;
}

export interface RepositoryRecord {
  createdAt: number;
  properties: RepositoryProperties;
  deleting: boolean;
}

export type RepoEvent =
  | {
      action: "put";
      /** sha256 hex of the stored blob. */
      digest: string;
      fileName: string;
      uploadTime: number;
      verified: boolean;
    }
  | { action: "delete"; tag: string }
  | { action: "extra-put"; record: ExtraMetadataRecord }
  | { action: "extra-delete"; dataType: string }
  | { action: "publish" }
  /**
   * Rebuild the index from the registry replica (`beskar-yum restore`): recorded by the API, done by
   * the worker under the lock, in order with the events after it.
   */
  | { action: "restore" };

export interface StoredEvent {
  seq: number;
  event: RepoEvent;
  createdAt: number;
}

/** What applying an event did; `changed` tells whether the repodata must be published again. */
export interface EventResult {
  changed: boolean;
  /** Error text recorded as the event's outcome (the event is still consumed). */
  error?: string;
}

export interface IndexTransaction {
  /** A log line written with the event's changes, or not at all. */
  addLog(level: LogLevel, message: string): Promise<void>;
  countPackages(): Promise<number>;
  getPackageByTag(tag: string): Promise<PackageRecord | undefined>;
  upsertPackage(record: PackageRecord): Promise<void>;
  deletePackage(tag: string): Promise<void>;
  getExtraMetadata(dataType: string): Promise<ExtraMetadataRecord | undefined>;
  upsertExtraMetadata(record: ExtraMetadataRecord): Promise<void>;
  deleteExtraMetadata(dataType: string): Promise<void>;
}

/** A metadata file stored as uploaded (possibly compressed) and listed in repomd.xml as `<data type=...>`. */
export interface ExtraMetadataRecord {
  /** repomd `<data type>`, e.g. "group", "updateinfo", "modules". */
  dataType: string;
  /** File name in repodata/ after the checksum prefix, e.g. "comps.xml.gz". */
  fileName: string;
  /** sha256 of the file as stored; also its blob digest. */
  digest: string;
  size: number;
  /** sha256 and size of the uncompressed content, when we could compute them. */
  openDigest?: string;
  openSize?: number;
  timestamp: number;
}

export interface PackageRecord {
  tag: string;
  /** sha256 of the RPM file (pkgid), also its blob digest. */
  id: string;
  fileName: string;
  href: string;
  name: string;
  epoch: number;
  version: string;
  release: string;
  arch: string;
  summary: string;
  description: string;
  license: string;
  vendor: string;
  groups: string;
  sourceRpm: string;
  buildTime: number;
  uploadTime: number;
  size: number;
  fileSize: number;
  verified: boolean;
  gpgSignature: string;
  /** Mirrors: the checksum upstream's primary.xml gives, as "<type>:<hex>", to detect changes. */
  upstreamChecksum?: string;
  primaryXml: string;
  filelistsXml: string;
  otherXml: string;
}

/** A finished publish: the repomd.xml served from now on, and its detached signature. */
export interface PublishRecord {
  seq: number;
  revision: number;
  repomd: string;
  /** Its detached signature (ours, for what we publish). */
  repomdAsc?: string;
  /** How long the publish took, for the stats; none when the same generation was only signed again. */
  durationMs?: number;
  /** The INFO line that says so. */
  log?: string;
}

export interface PublishState {
  appliedSeq: number;
  publishedSeq: number;
  /** True when applied events changed the packages since the last publish. */
  dirty: boolean;
  revision: number;
  /** The repomd.xml of the current generation, if any. */
  repomd: string | undefined;
  /** Its detached signature, when upstream (or we) signed it. */
  repomdAsc: string | undefined;
}

/** Counters since the repository was created (or since the index had stats: schema version 4). */
export interface RepositoryStats {
  /** Syncs ended, failed ones included. */
  syncs: number;
  syncFailures: number;
  /** Summed over the syncs ended, and the last one's. */
  syncMsTotal: number;
  lastSyncMs: number;
  /** Unix seconds when the last successful sync ended (0: never), and the packages it left. */
  lastGoodSyncEnd: number;
  lastGoodSyncPackages: number;
  /** Downloaded by every sync (packages and metadata files; a failed sync counts what it fetched). */
  syncBytesTotal: number;
  syncPackagesTotal: number;
  publishes: number;
  publishMsTotal: number;
  lastPublishMs: number;
  /** Unix seconds of the last publish (0: never). */
  lastPublishTime: number;
}

/** Progress and outcome of a repository's mirror sync (Beskar's reposync row, plus our detail). */
export interface SyncState {
  syncing: boolean;
  /** Unix seconds; 0 when never. */
  startTime: number;
  endTime: number;
  totalPackages: number;
  syncedPackages: number;
  syncError: string;
  /** "metadata", "packages", "publish", "" when idle. */
  phase: string;
  downloadedBytes: number;
  /** Packages fetched from upstream in this sync (the rest were already stored). */
  downloadedPackages: number;
}

export interface MirrorGeneration {
  /** Rows to switch in besides the staged ones. */
  upsert?: PackageRecord[];
  /** Rows removed by tag: every row of that tag (a hosted repository has one per tag). */
  deleteTags: string[];
  /** Rows removed by href (a mirror's: one tag may have several rows, one per href). */
  deleteHrefs?: string[];
  revision: number;
  repomd: string;
  repomdAsc: string | undefined;
}

/** Where a page of packages starts after: the last package of the previous page. */
export interface PackageCursor {
  href: string;
  tag: string;
}

/** A package row without its XML fragments (most of its size). */
export type PackageSummary = Omit<PackageRecord, "primaryXml" | "filelistsXml" | "otherXml">;

/** Log lines with their number (the keyset of `listLogsPage`). */
export type LogPage = (LogRecord & { id: number })[];

export interface LogRecord {
  level: LogLevel;
  date: number;
  message: string;
}
