import { defineConfig } from "vitest/config";
import base from "./vitest.config.js";

/**
 * The CI matrix's second pass (`npm run test:postgres`, run by `.ci/run` after `npm test`): the
 * end-to-end files whose stacks keep their repository indexes, with `index.driver: postgres` instead
 * of SQLite (test/harness/index-driver.ts: a database per stack's data dir on
 * `BESKARYUM_TEST_POSTGRES`, dropped with the file's temp dirs). The files that exercise the index:
 * uploads, publishes, mirrors, crashes and lock loss mid-work, limits, logs and metrics, the content
 * cache's freshness, the registry replica and its restore, plugin mode. Files whose stacks have no
 * index to speak of (configuration, fuzzing of the HTTP surface, the CLI's own process, Compose and
 * Dockerfile checks, gossip) run once, with SQLite. Every other file that starts stacks passes with
 * postgres too (run by hand, 2026-12-07), but for test/worker-job-failures.test.ts, which corrupts
 * rows by writing the SQLite index file itself (test/signing-zypper.test.ts not checked: no zypper
 * unpacked on that machine).
 */
export const postgresMatrix = [
  "test/content-serving.test.ts",
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
  "test/registry-storage.test.ts",
  "test/registry-restore.test.ts",
  "test/security-side-effects.test.ts",
  "test/signing-dnf.test.ts",
  "test/plugin/yum-plugin.test.ts",
  "test/plugin/plugin-registry.test.ts",
];

// Not mergeConfig: it would append this list to the base's `include` (every file) instead of replacing it.
export default defineConfig({
  ...base,
  test: { ...base.test, include: postgresMatrix, env: { BESKARYUM_TEST_INDEX_DRIVER: "postgres" } },
});
