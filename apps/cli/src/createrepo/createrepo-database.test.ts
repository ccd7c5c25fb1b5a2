import { cpSync, mkdirSync, readdirSync, readFileSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { decompressMetadataStream, parseRepomd } from "@beskar-yum/repodata";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROCKY_PACKAGES, tempDir } from "../../../../packages/rpm/src/test-support/fixtures.js";
import { buildRpmbuildCorpus } from "../../../../packages/rpm/src/test-support/rpmbuild-corpus.js";
import { makeDnf } from "../../../../test/support/dnf.js";
import { run } from "../../../../test/support/run.js";
import { startStaticServer } from "../../../../test/support/static-server.js";
import { cleanupTempDirs } from "../../../../test/support/tmp.js";
import { createrepoJson } from "./test-support/createrepo-cli.js";

type Row = Record<string, unknown>;

/** `<repo>/repodata/*-<kind>.sqlite.*`, decompressed into `into` and opened read-only. */
async function openDatabase(repo: string, kind: string, into: string): Promise<Database.Database> {
  const dir = join(repo, "repodata");
  const name = readdirSync(dir).find((f) => f.includes(`-${kind}.sqlite.`));
  if (!name) throw new Error(`no ${kind}.sqlite in ${dir}`);
  const chunks: Buffer[] = [];
  for await (const c of decompressMetadataStream(join(dir, name))) chunks.push(c);
  await writeFile(into, Buffer.concat(chunks));
  return new Database(into, { readonly: true });
}

/** Schema objects (tables, indexes, triggers) and each table's columns. */
function schema(db: Database.Database): unknown {
  const objects = db
    .prepare("SELECT type, name, tbl_name FROM sqlite_master ORDER BY type, name")
    .all() as Row[];
  const tables = objects.filter((o) => o.type === "table").map((o) => o.name as string);
  return {
    objects,
    columns: Object.fromEntries(tables.map((t) => [t, db.prepare(`PRAGMA table_info(${t})`).all()])),
  };
}

/** Every row of `table` with its value types, pkgKey replaced by the package's pkgId, sorted. */
function rows(db: Database.Database, table: string): string[] {
  const columns = (db.prepare(`PRAGMA table_info(${table})`).all() as Row[])
    .map((c) => c.name as string)
    .filter((c) => c !== "pkgKey");
  const select = columns.map((c) => `t."${c}" AS "${c}", typeof(t."${c}") AS "${c}:type"`).join(", ");
  const sql =
    table === "packages"
      ? `SELECT ${select} FROM packages t`
      : `SELECT p.pkgId AS "pkg", ${select} FROM ${table} t JOIN packages p USING (pkgKey)`;
  return (db.prepare(sql).all() as Row[]).map((r) => JSON.stringify(r)).sort();
}

const tablesOf = {
  primary: [
    "packages",
    "files",
    "requires",
    "provides",
    "conflicts",
    "obsoletes",
    "suggests",
    "enhances",
    "recommends",
    "supplements",
  ],
  filelists: ["packages", "filelist"],
  other: ["packages", "changelog"],
} as const;

describe("beskar-yum createrepo --database", () => {
  let tmp: { dir: string; cleanup: () => void };
  let ours: string;
  let theirs: string;
  beforeAll(async () => {
    tmp = tempDir("cli-createrepo-database");
    ours = join(tmp.dir, "repo");
    cpSync(ROCKY_PACKAGES, join(ours, "Packages"), { recursive: true, preserveTimestamps: true });
    cpSync(buildRpmbuildCorpus(join(tmp.dir, "build")).dir, join(ours, "corpus"), {
      recursive: true,
      preserveTimestamps: true,
    });
    // createrepo_c's databases (on by default, bz2) for the very same files.
    theirs = join(tmp.dir, "createrepo_c");
    mkdirSync(theirs);
    const r = await run("createrepo_c", ["--quiet", "-o", theirs, ours], { timeoutMs: 60_000 });
    if (r.code !== 0) throw new Error(`createrepo_c exited ${r.code}\n${r.stderr}`);
    await createrepoJson([ours, "--database"]);
  }, 120_000);
  const repomd = () => parseRepomd(readFileSync(join(ours, "repodata", "repomd.xml"), "utf8"));
  afterAll(async () => {
    tmp.cleanup();
    await cleanupTempDirs();
  });

  it("lists primary_db, filelists_db and other_db (version 10, .sqlite.xz) in repomd.xml", async () => {
    const { records } = repomd();
    expect(records.map((r) => r.type)).toEqual([
      "primary",
      "filelists",
      "other",
      "primary_db",
      "filelists_db",
      "other_db",
    ]);
    for (const r of records.slice(3)) {
      expect(r.databaseVersion).toBe(10);
      expect(r.location).toMatch(
        new RegExp(`^repodata/${r.checksum.value}-${r.type.replace("_db", "")}\\.sqlite\\.xz$`),
      );
      expect(r.openSize).toBeGreaterThan(r.size);
    }
    // Without --database the next run drops them, as createrepo_c --no-database does; --update
    // with --database builds them again from the reused XML.
    await createrepoJson([ours, "--update"]);
    expect(readdirSync(join(ours, "repodata")).some((f) => f.includes(".sqlite"))).toBe(false);
    expect(await createrepoJson([ours, "--database", "--update"])).toMatchObject({ parsed: 0 });
    expect(readdirSync(join(ours, "repodata")).filter((f) => f.includes(".sqlite.xz"))).toHaveLength(3);
  });

  for (const kind of ["primary", "filelists", "other"] as const) {
    it(`writes ${kind}_db with createrepo_c's schema, rows and value types`, async () => {
      const a = await openDatabase(ours, kind, join(tmp.dir, `ours-${kind}.sqlite`));
      const b = await openDatabase(theirs, kind, join(tmp.dir, `theirs-${kind}.sqlite`));
      try {
        expect(schema(a)).toEqual(schema(b));
        const xml = repomd().records.find((r) => r.type === kind)!;
        expect(a.prepare("SELECT dbversion, checksum FROM db_info").all()).toEqual([
          { dbversion: 10, checksum: xml.checksum.value },
        ]);
        for (const table of tablesOf[kind]) {
          const ra = rows(a, table);
          expect(ra.length, table).toBeGreaterThan(0);
          expect(ra, table).toEqual(rows(b, table));
        }
      } finally {
        a.close();
        b.close();
      }
    });
  }

  it("is accepted by dnf", async () => {
    const server = await startStaticServer(ours);
    try {
      const dnf = makeDnf(server.url);
      await dnf.makecache();
      expect((await dnf.repoquery(["--qf", "%{name}"])).length).toBeGreaterThan(20);
      expect(await dnf.repoquery(["-l", "corpus"])).not.toHaveLength(0);
    } finally {
      await server.close();
    }
  });
});
