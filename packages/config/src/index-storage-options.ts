import type { Config } from "./config.js";

/**
 * What the repository storage takes from the configuration (limits, log retention, the index
 * driver), the same for the API and the worker. A plain object: `RepositoryStorage.open` accepts it
 * as its options, and this package does not depend on storage.
 */
export function indexStorageOptions(config: Config) {
  return {
    maxOpenIndexes: config.limits.maxOpenIndexes,
    maxPackagesPerRepository: config.limits.maxPackagesPerRepository,
    logRetention: {
      maxAgeSeconds: config.limits.logMaxAgeDays * 86_400,
      maxRows: config.limits.logMaxRows,
      info: config.log.repositoryInfo,
    },
    ...(config.index.driver === "postgres" ? { postgresUrl: config.index.postgres.url } : {}),
  };
}
