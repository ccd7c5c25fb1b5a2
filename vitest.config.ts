import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

const pkg = (name: string) => fileURLToPath(new URL(`./packages/${name}/src/index.ts`, import.meta.url));

export default defineConfig({
  resolve: {
    // Tests import workspace packages from source; the apps spawned as processes run the built JS.
    alias: Object.fromEntries(
      [
        "errors",
        "oci",
        "config",
        "rpm",
        "repodata",
        "storage",
        "queue",
        "repository",
        "mirror",
        "plugin-sdk",
        "router",
      ].map((n) => [`@beskar-yum/${n}`, pkg(n)]),
    ),
  },
  test: {
    include: ["packages/*/src/**/*.test.ts", "apps/*/src/**/*.test.ts", "test/**/*.test.ts"],
    testTimeout: 120_000,
    hookTimeout: 180_000,
    pool: "forks",
    maxWorkers: 2,
  },
});
