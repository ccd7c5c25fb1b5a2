export { fsyncDir, tempPathFor, writeFileAtomic } from "./atomic-file.js";
export { FsBlobStore, type IngestedBlob, type IngestOptions } from "./blob-store.js";
export { KeyedSemaphore, type Release, runBounded, Semaphore } from "./concurrency.js";
export { IndexChangeWatch } from "./index-change-watch.js";
export type { LayoutLog, LayoutMigration } from "./legacy-layout.js";
export type { ChangeToken, PostgresChangeTokens } from "./postgres-change-tokens.js";
export { PostgresIndexes } from "./postgres-indexes.js";
export { POSTGRES_SCHEMA_VERSION } from "./postgres-migrations.js";
export { PostgresRepoIndex } from "./postgres-repo-index.js";
export {
  RegistryBlobs,
  type SharedBlob,
  type SharedBlobClient,
  type SharedKind,
} from "./registry-blobs.js";
export type * from "./registry-records.js";
export type * from "./repo-index.js";
export { REPOSITORIES_DIR, repositoryKey, repositoryOfKey } from "./repository-layout.js";
export {
  defaultMaxOpenIndexes,
  type RepositoryPaths,
  RepositoryStorage,
  type RepositoryStorageOptions,
} from "./repository-storage.js";
export { SCHEMA_VERSION } from "./schema-migrations.js";
export {
  defaultLogRetention,
  defaultMaxPackages,
  type LogRetention,
  SqliteRepoIndex,
} from "./sqlite-repo-index.js";
