import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase } from "../packages/storage/src/test-support/postgres-test-db.js";
import { fetchPrimary } from "./harness/repodata-client.js";
import { type Stack, startStack } from "./harness/stack.js";
import { makeDnf } from "./support/dnf.js";
import { deletePrefix, uniquePrefix } from "./support/redis.js";
import { type StandardFixtures, standardFixtures } from "./support/rpm-fixtures.js";
import { cleanupTempDirs, makeTempDir } from "./support/tmp.js";

/**
 * `storage.driver: filesystem` on a shared mount: two nodes (API + worker each, datadirs of their
 * own) with one `storage.filesystem.directory` (here a directory both see, as an NFS mount would be),
 * one PostgreSQL index and one Redis prefix. Either node serves and processes any repository.
 */
describe("two nodes sharing a filesystem storage directory (index.driver postgres)", () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let one: Stack;
  let two: Stack;
  let rpms: StandardFixtures;
  const prefix = uniquePrefix("shared-mount");
  const hosted = "artifacts/yum/shared-mount";

  beforeAll(async () => {
    database = await createTestDatabase();
    rpms = await standardFixtures(makeTempDir("shared-mount-rpms"));
    const env = {
      BESKARYUM_INDEX_DRIVER: "postgres",
      BESKARYUM_INDEX_POSTGRES_URL: database.url,
      // Named, so that the test matrix's registry row leaves this file's storage as it is.
      BESKARYUM_STORAGE_DRIVER: "filesystem",
      BESKARYUM_STORAGE_FILESYSTEM_DIRECTORY: makeTempDir("shared-mount-storage"),
    };
    one = await startStack({ name: "shared-mount-1", prefix, env });
    two = await startStack({ name: "shared-mount-2", prefix, env });
  });
  afterAll(async () => {
    await one?.stop();
    await two?.stop();
    await deletePrefix(prefix);
    await database?.drop();
    await cleanupTempDirs();
  });

  it("installs through node 2 what was uploaded through node 1, and the other way round", async () => {
    expect((await one.call("POST", "/repository", { repository: hosted, properties: {} })).status).toBe(200);
    for (const rpm of [rpms.lib, rpms.app]) {
      const { status, json } = await one.upload(hosted, rpm, { wait: true });
      expect(status, JSON.stringify(json)).toBe(201);
    }
    const installed = await makeDnf(two.repoUrl(hosted)).install(["yumtest-app"]);
    expect(installed.stdout).toMatch(/yumtest-lib/);

    const { status, json } = await two.upload(hosted, rpms.extra, { wait: true });
    expect(status, JSON.stringify(json)).toBe(201);
    const names = (await fetchPrimary(one.repoUrl(hosted))).packages.map((p) => p.name).sort();
    expect(names).toEqual(["yumtest-app", "yumtest-extra", "yumtest-lib"]);
    const dnf = makeDnf(one.repoUrl(hosted));
    await dnf.install(["yumtest-extra"]);
    expect(await dnf.installed()).toEqual(expect.arrayContaining([expect.stringMatching(/^yumtest-extra-/)]));
  });
});
