import { defineConfig } from "vitest/config";
import base from "./vitest.config.js";

/**
 * The CI matrix's third pass (`npm run test:registry`, run by `.ci/run` after the postgres pass): the
 * end-to-end files of the postgres pass with `storage.driver: registry` as well, so the stacks keep
 * their packages and repodata in a Debian `docker-registry` (one per stack's data dir,
 * test/harness/index-driver.ts) and their data dirs are only caches. Left to the earlier passes:
 * test/content-serving.test.ts (it runs two API processes in one, `http.workers: 2`, which the
 * registry's per-process state refuses), test/registry-storage.test.ts and
 * test/registry-restore.test.ts (the registry as a replica, configured by the test), and the plugin
 * files (Beskar's registry is the plugin's; test/plugin/plugin-handover.test.ts runs plugin nodes on
 * postgres + registry in every pass, as test/two-nodes.test.ts does stacks on several machines).
 * test/security-side-effects.test.ts creates the longest repository name allowed (246 characters):
 * Debian's docker-registry with its blob descriptor cache answers 500 for repository names of 253
 * characters or more (`<name>/repodata` is 255), below the 255 the distribution spec allows, so that
 * create is refused with 503 REGISTRY_UNAVAILABLE on registry storage.
 */
export const registryMatrix = [
  "test/hosted-dnf.test.ts",
  "test/hosted-robustness.test.ts",
  "test/hosted-extra-metadata.test.ts",
  "test/hosted-comps.test.ts",
  "test/mirror-sync.test.ts",
  "test/mirror-crash.test.ts",
  "test/mirror-beskar.test.ts",
  "test/mirror-same-basename.test.ts",
  "test/worker-crash.test.ts",
  "test/worker-sync-crashes.test.ts",
  "test/lock-recheck.test.ts",
  "test/repository-limits.test.ts",
  "test/observability.test.ts",
  "test/signing-dnf.test.ts",
];

// Not mergeConfig: it would append this list to the base's `include` (every file) instead of replacing it.
export default defineConfig({
  ...base,
  test: {
    ...base.test,
    include: registryMatrix,
    env: { BESKARYUM_TEST_INDEX_DRIVER: "postgres", BESKARYUM_TEST_STORAGE_DRIVER: "registry" },
  },
});
