import { mkdir, readdir, readFile, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { YumError } from "@beskar-yum/errors";
import { writeFileAtomic } from "./atomic-file.js";
import { FsBlobStore } from "./blob-store.js";
import { fileIdentity } from "./file-identity.js";
import { type LayoutLog, type LayoutMigration, migrateLegacyLayout } from "./legacy-layout.js";
import { indexOpenError } from "./open-errors.js";
import type { PostgresChangeTokens } from "./postgres-change-tokens.js";
import { PostgresIndexes } from "./postgres-indexes.js";
import type { RegistryBlobs, SharedKind } from "./registry-blobs.js";
import type { RegistryTombstone } from "./registry-records.js";
import type { RepoIndex } from "./repo-index.js";
import { REPOSITORIES_DIR, repositoryKey, repositoryOfKey, STAGING_DIR } from "./repository-layout.js";
import {
  type IndexHandles,
  type LogRetention,
  SqliteRepoIndex,
  type SqliteRepoIndexOptions,
} from "./sqlite-repo-index.js";

/** Where one repository keeps its files: `<directory>/<prefix>/artifacts/yum/<key>/...` (repository-layout.ts). */
export interface RepositoryPaths {
  root: string;
  index: string;
  blobs: string;
  repodata: string;
}

interface CachedIndex {
  index: SqliteRepoIndex;
  /** `fileIdentity` of the file opened: another file at the path is another repository. */
  identity: string;
}

export interface RepositoryStorageOptions {
  /**
   * Index connections kept open at most (`limits.max_open_indexes`, default 256; each holds 3 file
   * descriptors: the database, its WAL and shared memory). Beyond it the least recently used idle
   * ones are closed; one in a transaction or an iteration is never closed under its user, and an
   * index whose connection was closed reopens it on its next call.
   */
  maxOpenIndexes?: number;
  /** `limits.max_packages_per_repository` (default 500,000). */
  maxPackagesPerRepository?: number;
  /** `limits.log_max_age_days` and `limits.log_max_rows` per repository. */
  logRetention?: LogRetention;
  /**
   * `index.driver: postgres`: the indexes live in this database (connected and migrated), and the
   * repositories are its list, not the datadir's directories. Blobs and repodata stay on disk.
   */
  postgres?: PostgresIndexes;
  /**
   * `storage.driver: registry`: package blobs and repodata data files live in the OCI registry, the
   * directory is only this node's cache of them (`share`, `localBlob`).
   */
  registry?: RegistryBlobs;
}

export const defaultMaxOpenIndexes = 256;

/**
 * The open index connections of one process, least recently used first (a Set keeps insertion
 * order: a use moves the index to the end). Beyond `max`, idle connections are closed from the
 * front; if every one is busy, the bound is exceeded until one is free.
 */
class HandleCache implements IndexHandles {
  private readonly open = new Set<SqliteRepoIndex>();

  constructor(
    readonly max: number,
    private readonly evicted: (index: SqliteRepoIndex) => void,
  ) {}

  get size(): number {
    return this.open.size;
  }

  opened(index: SqliteRepoIndex): void {
    this.open.add(index);
    this.last = index;
    this.evict(index);
  }

  used(index: SqliteRepoIndex): void {
    // Moving the index used last costs two Set operations per statement: skipped.
    if (this.last === index) return;
    this.last = index;
    this.open.delete(index);
    this.open.add(index);
  }

  private last: SqliteRepoIndex | undefined;

  /** Closes every connection (process end). */
  closeAll(): void {
    for (const index of [...this.open]) index.close();
    this.open.clear();
  }

  closed(index: SqliteRepoIndex): void {
    this.open.delete(index);
  }

  private evict(keep: SqliteRepoIndex): void {
    if (this.open.size <= this.max) return;
    for (const index of this.open) {
      if (this.open.size <= this.max) return;
      if (index === keep || !index.closeIfIdle()) continue;
      this.open.delete(index);
      this.evicted(index);
    }
  }
}

/**
 * The filesystem storage of every repository. Each repository owns one directory, named by its whole
 * name encoded as a single path segment (`repository-layout.ts`), so that no name reaches into another
 * repository's files; it holds the index, the content-addressed blobs and the published repodata.
 * Deleting a repository empties that directory (Beskar's own test checks it is left, empty).
 */
export class RepositoryStorage {
  private readonly indexes = new Map<string, CachedIndex>();
  private readonly handles: HandleCache;
  private readonly indexOptions: Omit<SqliteRepoIndexOptions, "create">;
  private readonly postgres: PostgresIndexes | undefined;
  /** `storage.driver: registry`: the primary store of blobs (none: the directory is). */
  readonly registry: RegistryBlobs | undefined;

  /** @param directory storage root (`storage.filesystem.directory`); @param prefix Beskar's normalised storage prefix */
  constructor(
    readonly directory: string,
    readonly prefix = "",
    options: RepositoryStorageOptions = {},
  ) {
    this.handles = new HandleCache(options.maxOpenIndexes ?? defaultMaxOpenIndexes, (index) => {
      // An evicted index leaves the cache: the next openIndex makes a new one (a holder of the
      // evicted one keeps using it, reopened on its next call).
      for (const [repository, cached] of this.indexes) {
        if (cached.index === index) this.indexes.delete(repository);
      }
    });
    this.postgres = options.postgres;
    this.registry = options.registry;
    this.indexOptions = {
      handles: this.handles,
      ...(options.maxPackagesPerRepository !== undefined
        ? { maxPackages: options.maxPackagesPerRepository }
        : {}),
      ...(options.logRetention ? { logRetention: options.logRetention } : {}),
    };
  }

  /**
   * The storage of a process: with `postgresUrl` (`index.driver: postgres`), the indexes are in
   * that database, connected and migrated before this returns (STORAGE_VERSION_UNSUPPORTED for a
   * newer schema, UNAVAILABLE when it cannot be reached).
   */
  static async open(
    directory: string,
    prefix: string,
    options: Omit<RepositoryStorageOptions, "postgres" | "registry"> & {
      registry?: RegistryBlobs | undefined;
      postgresUrl?: string;
      /** Errors of idle PostgreSQL connections (the pool replaces them). */
      onPostgresError?: (err: Error) => void;
    },
  ): Promise<RepositoryStorage> {
    const { postgresUrl, onPostgresError, registry, ...limits } = options;
    const rest = { ...limits, ...(registry ? { registry } : {}) };
    if (postgresUrl === undefined) return new RepositoryStorage(directory, prefix, rest);
    const postgres = await PostgresIndexes.connect(postgresUrl, {
      ...(rest.maxPackagesPerRepository !== undefined ? { maxPackages: rest.maxPackagesPerRepository } : {}),
      ...(rest.logRetention ? { logRetention: rest.logRetention } : {}),
      ...(onPostgresError ? { onError: onPostgresError } : {}),
    });
    return new RepositoryStorage(directory, prefix, { ...rest, postgres });
  }

  /**
   * With `index.driver: postgres`, the exact change tokens of its repositories (what the API's
   * content cache checks); undefined with SQLite, whose cache watches each index file instead.
   */
  changeTokens(): PostgresChangeTokens | undefined {
    return this.postgres?.changeTokens;
  }

  /** Index connections open now (bounded by `maxOpenIndexes` unless all are busy). */
  get openIndexes(): number {
    return this.handles.size;
  }

  /** The storage root of this prefix: `artifacts/yum/`, `staging/`, `_registry_tombstones_/` are in it. */
  private get base(): string {
    return join(this.directory, this.prefix);
  }

  /**
   * Run once at process start, before anything else touches storage: moves repositories of the
   * previous layout (`artifacts/yum/<a>/<b>/` nested in `artifacts/yum/<a>/`) into this one, and
   * removes staged uploads a crash left behind.
   */
  async prepare(log?: LayoutLog): Promise<LayoutMigration> {
    const migration = await migrateLegacyLayout(this.base, log);
    const staging = join(this.base, STAGING_DIR, "tmp");
    const dayAgo = Date.now() - 86_400_000;
    for (const name of await readdir(staging).catch(() => [] as string[])) {
      const path = join(staging, name);
      const info = await stat(path).catch(() => undefined);
      if (info?.isFile() && info.mtimeMs < dayAgo) await rm(path, { force: true });
    }
    return migration;
  }

  /**
   * Where an upload to a repository that does not exist yet streams in (`ingest`), outside every
   * repository: it is committed into the repository's own blob store once accepted.
   */
  staging(): FsBlobStore {
    return new FsBlobStore(join(this.base, STAGING_DIR));
  }

  /** `repository` is the full, already validated name, e.g. `artifacts/yum/rocky`. */
  paths(repository: string): RepositoryPaths {
    const root = join(this.base, REPOSITORIES_DIR, repositoryKey(repository));
    return {
      root,
      index: join(root, "index.db"),
      blobs: join(root, "blobs"),
      repodata: join(root, "repodata"),
    };
  }

  blobs(repository: string): FsBlobStore {
    return new FsBlobStore(this.paths(repository).blobs);
  }

  /**
   * Before the index refers to a blob stored here (an upload, a synced package, a repodata file):
   * with `storage.driver: registry`, the registry holds it too, so that every node can get it.
   * Nothing to do with the filesystem driver. `path`: where it is, when not in the blob store.
   */
  async share(repository: string, kind: SharedKind, blob: { digest: string; size?: number; path?: string }) {
    if (!this.registry) return;
    const path = blob.path ?? this.blobs(repository).pathOf(blob.digest);
    const size = blob.size ?? (await stat(path)).size;
    await this.registry.put(repository, kind, { digest: blob.digest, size, path });
  }

  /**
   * True when the repository's blob store holds `digest`, fetched from the registry first when this
   * node has not got it (`storage.driver: registry`); false when neither has it.
   */
  async localBlob(repository: string, kind: SharedKind, blob: { digest: string; size?: number }) {
    const blobs = this.blobs(repository);
    if (await blobs.has(blob.digest)) return true;
    if (!this.registry || !(await this.registry.has(repository, kind, blob.digest))) return false;
    await this.registry.fetch(repository, kind, blobs, blob);
    return true;
  }

  /**
   * The repository's index, or undefined when the repository does not exist. Handles are cached per
   * process (at most `maxOpenIndexes` connections open) and reopened when the file was replaced (a
   * repository deleted and created again elsewhere). An index that exists and cannot be opened is an
   * error saying why: STORAGE_CORRUPT (with its path), UNAVAILABLE (out of file descriptors, locked),
   * STORAGE_VERSION_UNSUPPORTED; never "not found".
   */
  async openIndex(repository: string): Promise<RepoIndex | undefined> {
    if (this.postgres) {
      try {
        this.paths(repository);
      } catch {
        return undefined;
      }
      return this.postgres.open(repository);
    }
    let path: string;
    try {
      // An invalid name (paths() refuses it) names no repository either.
      path = this.paths(repository).index;
    } catch {
      return undefined;
    }
    let identity: string;
    try {
      identity = fileIdentity(path);
    } catch (err) {
      this.forget(repository);
      const code = (err as NodeJS.ErrnoException).code;
      if (code === "ENOENT" || code === "ENOTDIR" || code === "ENAMETOOLONG") return undefined;
      throw indexOpenError(err, path);
    }
    const cached = this.indexes.get(repository);
    if (cached && cached.identity === identity) return cached.index;
    this.forget(repository);
    let index: SqliteRepoIndex;
    try {
      index = SqliteRepoIndex.open(path, { create: false, ...this.indexOptions });
    } catch (err) {
      // Deleted between the stat and the open: no repository.
      if (err instanceof YumError && err.code === "REPO_NOT_FOUND") return undefined;
      throw err;
    }
    this.indexes.set(repository, { index, identity: index.identity });
    return index;
  }

  /** Creates the repository's directory and empty index (idempotent), returning the index. */
  async createIndex(repository: string): Promise<RepoIndex> {
    const paths = this.paths(repository);
    await mkdir(paths.root, { recursive: true });
    if (this.postgres) return this.postgres.create(repository);
    const existing = await this.openIndex(repository);
    if (existing) return existing;
    const index = SqliteRepoIndex.open(paths.index, { create: true, ...this.indexOptions });
    this.indexes.set(repository, { index, identity: index.identity });
    return index;
  }

  /** Removes everything the repository stored and leaves its directory empty. */
  async deleteRepository(repository: string): Promise<void> {
    this.forget(repository);
    const { root } = this.paths(repository);
    let entries: string[];
    try {
      entries = await readdir(root);
    } catch {
      await this.postgres?.delete(repository);
      return;
    }
    // The index goes last: while it exists, other processes still see the repository (marked deleting).
    const owned = new Set(["blobs", "repodata", "tmp"]);
    await Promise.all(
      entries.filter((e) => owned.has(e)).map((e) => rm(join(root, e), { recursive: true, force: true })),
    );
    for (const name of ["index.db", "index.db-wal", "index.db-shm"])
      await rm(join(root, name), { force: true });
    await this.postgres?.delete(repository);
  }

  /** Where the registry tombstones of deleted repositories wait (beside `artifacts/`, not inside a repository). */
  private get tombstones(): string {
    return join(this.base, "_registry_tombstones_");
  }

  private tombstonePath(repository: string): string {
    return join(this.tombstones, `${repositoryKey(repository)}.json`);
  }

  /**
   * Records (durably) the manifests a repository about to be deleted leaves in the registry, added to
   * those of an earlier deletion of the same name not yet cleaned up.
   */
  async addRegistryTombstone(tombstone: RegistryTombstone): Promise<void> {
    // With PostgreSQL, in the database: any node's worker deletes the manifests, not only this one's.
    if (this.postgres) return this.postgres.addTombstone(tombstone);
    const earlier = (await this.registryTombstone(tombstone.repository))?.manifests ?? [];
    const manifests = [...earlier, ...tombstone.manifests];
    await mkdir(this.tombstones, { recursive: true });
    await writeFileAtomic(
      this.tombstonePath(tombstone.repository),
      JSON.stringify({ repository: tombstone.repository, manifests }),
    );
  }

  async registryTombstone(repository: string): Promise<RegistryTombstone | undefined> {
    if (this.postgres) return this.postgres.tombstone(repository);
    try {
      return JSON.parse(await readFile(this.tombstonePath(repository), "utf8")) as RegistryTombstone;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw err;
    }
  }

  async removeRegistryTombstone(repository: string): Promise<void> {
    if (this.postgres) return this.postgres.removeTombstone(repository);
    await rm(this.tombstonePath(repository), { force: true });
  }

  /** The repositories with a registry tombstone. */
  async listRegistryTombstones(): Promise<string[]> {
    if (this.postgres) return this.postgres.listTombstones();
    try {
      const names = await readdir(this.tombstones);
      return names
        .filter((n) => n.endsWith(".json"))
        .map((n) => repositoryOfKey(n.slice(0, -5)))
        .filter((n): n is string => n !== undefined);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
      throw err;
    }
  }

  /** Every repository (full name) that has an index under the storage root. */
  async listRepositories(): Promise<string[]> {
    if (this.postgres) return this.postgres.list();
    const root = join(this.base, REPOSITORIES_DIR);
    const found: string[] = [];
    for (const key of await readdir(root).catch(() => [] as string[])) {
      const repository = repositoryOfKey(key);
      if (!repository) continue;
      const info = await stat(join(root, key, "index.db")).catch(() => undefined);
      if (info?.isFile()) found.push(repository);
    }
    return found;
  }

  /**
   * Drops the cached index of a repository whose file is gone or replaced: its connection is closed
   * unless in use; a holder's next call reopens it only if the file is still the same (else
   * REPO_NOT_FOUND).
   */
  private forget(repository: string): void {
    const cached = this.indexes.get(repository);
    if (cached) {
      if (cached.index.closeIfIdle()) this.handles.closed(cached.index);
      this.indexes.delete(repository);
    }
  }

  close(): void {
    for (const { index } of this.indexes.values()) index.close();
    this.indexes.clear();
    this.handles.closeAll();
    this.postgres?.close().catch(() => undefined);
  }
}
