import { configDefaults, defineConfig } from "vitest/config";
import base from "./vitest.config.js";

/**
 * The CI matrix's second row (`npm run test:postgres`, run by `.ci/run` after `npm test`): the whole
 * end-to-end suite (`test/`) again with `index.driver: postgres` instead of SQLite
 * (test/harness/index-driver.ts: a database per stack's data dir on `BESKARYUM_TEST_POSTGRES`,
 * dropped with the file's temp dirs; a test that chooses its index driver keeps it). The unit tests
 * beside the code run once: the index's own contract tests cover both drivers in `npm test`.
 */
export const postgresExcluded = [
  // It corrupts rows by writing the SQLite index file itself.
  "test/worker-job-failures.test.ts",
];

// Not mergeConfig: it would append these lists to the base's instead of replacing them.
export default defineConfig({
  ...base,
  test: {
    ...base.test,
    include: ["test/**/*.test.ts"],
    exclude: [...configDefaults.exclude, ...postgresExcluded],
    env: { BESKARYUM_TEST_INDEX_DRIVER: "postgres" },
  },
});
