import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PostgresIndexes } from "../postgres-indexes.js";
import type { PostgresRepoIndex } from "../postgres-repo-index.js";
import type { RepoIndex } from "../repo-index.js";
import { SqliteRepoIndex, type SqliteRepoIndexOptions } from "../sqlite-repo-index.js";
import { createTestDatabase } from "./postgres-test-db.js";

type IndexOptions = Omit<SqliteRepoIndexOptions, "create" | "handles">;

/**
 * The index drivers a contract test runs against: `setup` once per file (PostgreSQL: a database of
 * its own), `open` a new, empty index per test, `teardown` removes everything.
 */
export interface IndexDriver {
  name: "sqlite" | "postgres";
  setup(): Promise<void>;
  open(options?: IndexOptions): Promise<RepoIndex>;
  /** The same repository's index opened again (another process, say), with `options`. */
  reopen(index: RepoIndex, options?: IndexOptions): Promise<RepoIndex>;
  teardown(): Promise<void>;
}

function sqliteDriver(): IndexDriver {
  let dir = "";
  let n = 0;
  const opened: RepoIndex[] = [];
  return {
    name: "sqlite",
    async setup() {
      dir = mkdtempSync(join(tmpdir(), "byindex-"));
    },
    async open(options = {}) {
      const index = SqliteRepoIndex.open(join(dir, `index-${n++}.db`), { create: true, ...options });
      opened.push(index);
      return index;
    },
    async reopen(index, options = {}) {
      const again = SqliteRepoIndex.open(index.path, { create: false, ...options });
      opened.push(again);
      return again;
    },
    async teardown() {
      for (const index of opened) index.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function postgresDriver(): IndexDriver {
  let database: Awaited<ReturnType<typeof createTestDatabase>> | undefined;
  const pools: PostgresIndexes[] = [];
  let n = 0;
  return {
    name: "postgres",
    async setup() {
      database = await createTestDatabase();
    },
    async open(options = {}) {
      const indexes = await PostgresIndexes.connect(database!.url, options);
      pools.push(indexes);
      return indexes.create(`artifacts/yum/r${n++}`);
    },
    async reopen(index, options = {}) {
      const indexes = await PostgresIndexes.connect(database!.url, options);
      pools.push(indexes);
      return (await indexes.open((index as PostgresRepoIndex).repository))!;
    },
    async teardown() {
      for (const indexes of pools) await indexes.close();
      await database?.drop();
    },
  };
}

export const indexDrivers = (): IndexDriver[] => [sqliteDriver(), postgresDriver()];
