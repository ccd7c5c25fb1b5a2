export { fsyncDir, tempPathFor, writeFileAtomic } from "./atomic-file.js";
export { FsBlobStore, type IngestedBlob, type IngestOptions } from "./blob-store.js";
export { KeyedSemaphore, type Release, runBounded, Semaphore } from "./concurrency.js";
export type { LayoutLog, LayoutMigration } from "./legacy-layout.js";
export type * from "./registry-records.js";
export type * from "./repo-index.js";
export { REPOSITORIES_DIR, repositoryKey, repositoryOfKey } from "./repository-layout.js";
export { type RepositoryPaths, RepositoryStorage } from "./repository-storage.js";
export { SqliteRepoIndex } from "./sqlite-repo-index.js";
