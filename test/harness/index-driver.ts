import { createTestDatabase } from "../../packages/storage/src/test-support/postgres-test-db.js";
import { dockerRegistry } from "../support/docker-registry.js";
import { onTempDirsCleanup } from "../support/tmp.js";

/**
 * The index driver of the stacks the harness starts: `BESKARYUM_TEST_INDEX_DRIVER=postgres` runs
 * every stack of a test file with `index.driver: postgres` (the CI matrix's second pass, `.ci/run`);
 * unset or `sqlite`, the default SQLite files.
 */
export const testIndexDriver = readDriver(process.env.BESKARYUM_TEST_INDEX_DRIVER);

function readDriver(value: string | undefined): "sqlite" | "postgres" {
  if (value === undefined || value === "" || value === "sqlite") return "sqlite";
  if (value === "postgres") return value;
  throw new Error(`BESKARYUM_TEST_INDEX_DRIVER must be sqlite or postgres, not ${JSON.stringify(value)}`);
}

/**
 * The storage driver of those stacks: `BESKARYUM_TEST_STORAGE_DRIVER=registry` (with the postgres
 * index, which it needs) stores every stack's packages and repodata in a Debian `docker-registry` of
 * its data dir's own (the CI matrix's third pass); unset or `filesystem`, the data dir.
 */
export const testStorageDriver = readStorage(process.env.BESKARYUM_TEST_STORAGE_DRIVER);

function readStorage(value: string | undefined): "filesystem" | "registry" {
  if (value === undefined || value === "" || value === "filesystem") return "filesystem";
  if (value !== "registry")
    throw new Error(
      `BESKARYUM_TEST_STORAGE_DRIVER must be filesystem or registry, not ${JSON.stringify(value)}`,
    );
  if (testIndexDriver !== "postgres")
    throw new Error("BESKARYUM_TEST_STORAGE_DRIVER=registry needs BESKARYUM_TEST_INDEX_DRIVER=postgres");
  return value;
}

/**
 * One resource per data dir (a database, a registry), made on first use by `make`, which registers
 * its own teardown with the temp dirs; forgotten with them too, so that a stack started again on the
 * same data dir finds the same one.
 */
function perDataDir(make: () => Promise<string>): (dataDir: string) => Promise<string> {
  const made = new Map<string, Promise<string>>();
  return (dataDir) => {
    let url = made.get(dataDir);
    if (!url) {
      url = make();
      made.set(dataDir, url);
      onTempDirsCleanup(async () => {
        made.delete(dataDir);
      });
    }
    return url;
  };
}

/** The registry of each data dir, started on first use and stopped with the temp dirs. */
const registryOf = perDataDir(async () => {
  const registry = await dockerRegistry();
  await registry.start();
  onTempDirsCleanup(() => registry.stop());
  return registry.url;
});

/**
 * The environment that selects the storage of a stack on `dataDir`: nothing with the filesystem;
 * with the registry, `storage.driver: registry` and `registry.url` of that data dir's own registry.
 */
export async function storageEnv(dataDir: string): Promise<Record<string, string>> {
  if (testStorageDriver === "filesystem") return {};
  return { BESKARYUM_STORAGE_DRIVER: "registry", BESKARYUM_REGISTRY_URL: await registryOf(dataDir) };
}

/** The database of each data dir: a stack started again on a data dir finds its repositories. */
const databaseOf = perDataDir(async () => {
  const database = await createTestDatabase();
  onTempDirsCleanup(() => database.drop());
  return database.url;
});

/**
 * The environment that selects the index of a stack on `dataDir`: nothing with SQLite (the index is
 * in the data dir); with PostgreSQL, a database of that data dir's own, made on first use on
 * `BESKARYUM_TEST_POSTGRES` and dropped with the temp dirs (`cleanupTempDirs`, which every test file
 * calls), so a restart on the same data dir keeps its index as it would with SQLite.
 */
export async function indexEnv(dataDir: string): Promise<Record<string, string>> {
  if (testIndexDriver === "sqlite") return {};
  return { BESKARYUM_INDEX_DRIVER: "postgres", BESKARYUM_INDEX_POSTGRES_URL: await databaseOf(dataDir) };
}
