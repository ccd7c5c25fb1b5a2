import pg from "pg";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { PostgresIndexes } from "./postgres-indexes.js";
import { POSTGRES_SCHEMA_VERSION } from "./postgres-migrations.js";
import { createTestDatabase } from "./test-support/postgres-test-db.js";

describe("PostgreSQL index migrations", () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  const opened: PostgresIndexes[] = [];
  beforeEach(async () => {
    database = await createTestDatabase();
  });
  afterEach(async () => {
    for (const indexes of opened.splice(0)) await indexes.close();
    await database.drop();
  });

  const query = async (sql: string) => {
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      return (await client.query(sql)).rows;
    } finally {
      await client.end();
    }
  };

  it("migrates once when several processes start at once (an advisory lock), recording the version", async () => {
    const all = await Promise.all(Array.from({ length: 6 }, () => PostgresIndexes.connect(database.url)));
    opened.push(...all);
    expect(await query("SELECT version FROM schema_version")).toEqual([{ version: POSTGRES_SCHEMA_VERSION }]);
    // Every one of them works on the same tables.
    await (await all[0]!.create("artifacts/yum/a")).createRepository(
      { mirror: false, mirror_urls: [], gpg_key: "" },
      1,
    );
    expect(await all[5]!.list()).toEqual(["artifacts/yum/a"]);
  });

  it("refuses a database of a newer schema than this build knows", async () => {
    opened.push(await PostgresIndexes.connect(database.url));
    await query(`UPDATE schema_version SET version = ${POSTGRES_SCHEMA_VERSION + 1}`);
    await expect(PostgresIndexes.connect(database.url)).rejects.toMatchObject({
      code: "STORAGE_VERSION_UNSUPPORTED",
    });
  });

  it("is UNAVAILABLE, not a crash, when the server cannot be reached", async () => {
    await expect(PostgresIndexes.connect("postgres://postgres@127.0.0.1:1/none")).rejects.toMatchObject({
      code: "UNAVAILABLE",
    });
  });

  it("deletes every row of a repository with it, and lists repositories from the database", async () => {
    const indexes = await PostgresIndexes.connect(database.url);
    opened.push(indexes);
    const index = await indexes.create("artifacts/yum/gone");
    await index.createRepository({ mirror: false, mirror_urls: [], gpg_key: "" }, 1);
    await index.appendEvent({ action: "publish" }, 1);
    await index.addLog("INFO", "a line", 1);
    await indexes.create("artifacts/yum/kept");
    expect(await indexes.list()).toEqual(["artifacts/yum/gone", "artifacts/yum/kept"]);
    await indexes.delete("artifacts/yum/gone");
    expect(await indexes.list()).toEqual(["artifacts/yum/kept"]);
    expect(await indexes.open("artifacts/yum/gone")).toBeUndefined();
    expect(await query("SELECT count(*)::int AS n FROM events")).toEqual([{ n: 0 }]);
    expect(await query("SELECT count(*)::int AS n FROM logs")).toEqual([{ n: 0 }]);
  });
});
