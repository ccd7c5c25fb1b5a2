import { configDefaults, defineConfig } from "vitest/config";
import base from "./vitest.config.js";
import { postgresExcluded } from "./vitest.postgres.config.js";

/**
 * The CI matrix's third row (`npm run test:registry`, run by `.ci/run` after the postgres row): the
 * end-to-end suite with `storage.driver: registry` as well as the postgres index, so every stack
 * keeps its packages and repodata in a Debian `docker-registry` of its data dir's own
 * (test/harness/index-driver.ts) and its data dir is only a cache. A test that configures a registry
 * or a storage driver itself keeps its own. Left out, besides the postgres row's exclusions:
 */
export const registryExcluded = [
  ...postgresExcluded,
  // Two API processes in one (`http.workers: 2`), which the registry's per-process state refuses at start.
  "test/content-serving.test.ts",
  // The registry as a replica beside filesystem storage, configured by the test: what it checks
  // (a node with an index of its own never pushes over the registry's) is that arrangement's.
  "test/registry-restore.test.ts",
  // Plugin mode with Beskar's registry as the plugin's (test/plugin/plugin-handover.test.ts runs
  // plugin nodes on postgres + registry storage in every row).
  "test/plugin/plugin-registry.test.ts",
  // It creates the longest repository name allowed (246 characters): Debian's docker-registry with
  // its blob descriptor cache answers 500 for repository names of 253 characters or more
  // (`<name>/repodata` is 255), below the 255 the distribution spec allows, so that create is
  // refused with 503 REGISTRY_UNAVAILABLE on registry storage.
  "test/security-side-effects.test.ts",
];

export default defineConfig({
  ...base,
  test: {
    ...base.test,
    include: ["test/**/*.test.ts"],
    exclude: [...configDefaults.exclude, ...registryExcluded],
    env: { BESKARYUM_TEST_INDEX_DRIVER: "postgres", BESKARYUM_TEST_STORAGE_DRIVER: "registry" },
  },
});
