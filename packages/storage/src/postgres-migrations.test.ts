import pg from "pg";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { PostgresIndexes } from "./postgres-indexes.js";
import { POSTGRES_SCHEMA_VERSION, postgresMigrations } from "./postgres-migrations.js";
import { fakeRecord } from "./test-support/fake-record.js";
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

  it("upgrades a version 2 database: the package count of existing repositories, then kept by every write", async () => {
    for (const step of postgresMigrations.filter((m) => m.version <= 2)) await query(step.sql);
    await query(
      "CREATE TABLE schema_version (version INTEGER NOT NULL); INSERT INTO schema_version VALUES (2)",
    );
    await query(`INSERT INTO repositories (name, properties) VALUES ('artifacts/yum/old', '{}');
      INSERT INTO packages (repo_id, href, tag, id, file_name, meta, primary_xml, filelists_xml, other_xml)
      SELECT 1, 'Packages/p' || n || '.rpm', 'p' || n, 'd' || n, 'p' || n || '.rpm', '{}', '', '', ''
      FROM generate_series(1, 3) n`);
    const indexes = await PostgresIndexes.connect(database.url);
    opened.push(indexes);
    expect(await query("SELECT version FROM schema_version")).toEqual([{ version: POSTGRES_SCHEMA_VERSION }]);
    const index = (await indexes.open("artifacts/yum/old"))!;
    expect(await index.countPackages()).toBe(3);
    const before = await indexes.changeTokens.read("artifacts/yum/old");
    // A mirror generation: one replaced, one removed, two new (an upsert of an href counts once).
    const record = (n: number) =>
      fakeRecord(`p${n}`, { id: `new${n}`, fileName: `p${n}.rpm`, href: `Packages/p${n}.rpm` });
    await index.commitMirrorGeneration(1, {
      revision: 2,
      repomd: "<repomd/>",
      repomdAsc: undefined,
      deleteTags: ["p2"],
      upsert: [record(1), record(4), record(5)],
    });
    expect(await index.countPackages()).toBe(4);
    expect(await query("SELECT count(*)::int AS n FROM packages")).toEqual([{ n: 4 }]);
    const after = await indexes.changeTokens.read("artifacts/yum/old");
    expect(after).not.toBe(before);
    // Another repository's writes leave this one's token alone.
    await (await indexes.create("artifacts/yum/other")).createRepository(
      { mirror: false, mirror_urls: [], gpg_key: "" },
      1,
    );
    expect(await indexes.changeTokens.read("artifacts/yum/old")).toBe(after);
    await index.setDeleting(true);
    expect(await indexes.changeTokens.read("artifacts/yum/old")).toBeUndefined();
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
    // A package row too: its count trigger runs in the cascade that deletes the repository's row.
    const generation = { revision: 1, repomd: "<repomd/>", repomdAsc: undefined, deleteTags: [] };
    await index.commitMirrorGeneration(1, { ...generation, upsert: [fakeRecord("gone")] });
    await indexes.create("artifacts/yum/kept");
    expect(await indexes.list()).toEqual(["artifacts/yum/gone", "artifacts/yum/kept"]);
    await indexes.delete("artifacts/yum/gone");
    expect(await indexes.list()).toEqual(["artifacts/yum/kept"]);
    expect(await indexes.open("artifacts/yum/gone")).toBeUndefined();
    expect(await query("SELECT count(*)::int AS n FROM events")).toEqual([{ n: 0 }]);
    expect(await query("SELECT count(*)::int AS n FROM logs")).toEqual([{ n: 0 }]);
    expect(await query("SELECT count(*)::int AS n FROM packages")).toEqual([{ n: 0 }]);
  });
});
