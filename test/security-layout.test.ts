import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseRepomd } from "@beskar-yum/repodata";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fetchPrimary, missingRepodataFiles } from "./harness/repodata-client.js";
import { type Stack, startStack } from "./harness/stack.js";
import { manyFixtures } from "./support/rpm-fixtures.js";
import { cleanupTempDirs, makeTempDir } from "./support/tmp.js";

/** What a nested mirror holds that must never be served: a client key and a password in a URL. */
const tlsKey = "-----BEGIN PRIVATE KEY-----\nTOPSECRETKEYMATERIAL\n-----END PRIVATE KEY-----\n";
const mirrorUrl = "http://mirror-user:N3stedSecretPw@127.0.0.1:9/upstream/";
const secrets = ["TOPSECRETKEYMATERIAL", "N3stedSecretPw"];

/** The storage directory of a repository: `artifacts/yum/<name with "/" as "+">`. */
const keyOf = (repository: string) => repository.slice("artifacts/yum/".length).replaceAll("/", "+");
const dirOf = (dataDir: string, repository: string) => join(dataDir, "artifacts", "yum", keyOf(repository));

const sha256 = (data: Buffer) => createHash("sha256").update(data).digest("hex");

async function get(url: string): Promise<{ status: number; body: Buffer }> {
  const response = await fetch(url);
  return { status: response.status, body: Buffer.from(await response.arrayBuffer()) };
}

describe("storage layout: no repository name reaches another repository's files", () => {
  let stack: Stack;
  let rpms: string[];
  beforeAll(async () => {
    stack = await startStack({ name: "layout" });
    rpms = await manyFixtures(makeTempDir("layout-rpms"), 6, { prefix: "layouttest-" });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it("keeps <hosted>/repodata, /blobs and /tmp out of <hosted>'s files: nothing of theirs is served, and both keep publishing", async () => {
    const hosted = "artifacts/yum/lay-hosted";
    expect((await stack.upload(hosted, rpms[0]!, { wait: true })).status).toBe(201);
    const nested = ["repodata", "blobs", "tmp"].map((s) => `${hosted}/${s}`);
    for (const repository of nested) {
      const properties = { mirror: true, mirror_urls: [mirrorUrl], tls_key: tlsKey };
      const created = await stack.call("POST", "/repository", { repository, properties });
      expect(created.status, JSON.stringify(created.json)).toBe(200);
    }
    // What the previous layout put inside hosted's repodata/ (the nested mirror's index and its WAL).
    for (const file of ["index.db", "index.db-wal", "index.db-shm", "blobs", "repodata", "tmp"]) {
      const { status, body } = await get(`${stack.repoUrl(hosted)}repodata/${file}`);
      expect(status, file).toBe(404);
      for (const secret of secrets) expect(body.toString("latin1")).not.toContain(secret);
    }
    // repomd.xml.key is hosted's own: the public key of the server, never a file of the folder.
    const key = await get(`${stack.repoUrl(hosted)}repodata/repomd.xml.key`);
    expect(key.status).toBe(200);
    expect(key.body.toString("latin1")).toMatch(/^-----BEGIN PGP PUBLIC KEY BLOCK-----/);
    expect(key.body.toString("latin1")).not.toMatch(/PRIVATE/);
    for (const secret of secrets) expect(key.body.toString("latin1")).not.toContain(secret);
    // hosted publishes twice more; the nested repositories are untouched, and hosted stays whole.
    expect((await stack.upload(hosted, rpms[1]!, { wait: true })).status).toBe(201);
    expect((await stack.upload(hosted, rpms[2]!, { wait: true })).status).toBe(201);
    expect((await fetchPrimary(stack.repoUrl(hosted))).packages).toHaveLength(3);
    expect(await missingRepodataFiles(stack.repoUrl(hosted))).toEqual([]);
    for (const repository of nested) {
      const { status, json } = await stack.call("GET", "/repository", { repository });
      expect(status, repository).toBe(200);
      expect(json.properties).toMatchObject({ mirror: true, tls_key: "(set)" });
      expect((await get(`${stack.repoUrl(repository)}repodata/repomd.xml`)).status).toBe(200);
    }
    // One directory per repository, side by side; hosted's folders hold only its own files.
    expect(readdirSync(join(stack.dataDir, "artifacts", "yum")).sort()).toEqual(
      [hosted, ...nested].map(keyOf).sort(),
    );
    expect(readdirSync(dirOf(stack.dataDir, hosted)).sort()).toEqual(
      ["blobs", "index.db", "index.db-shm", "index.db-wal", "repodata"].filter((f) =>
        existsSync(join(dirOf(stack.dataDir, hosted), f)),
      ),
    );
    expect(
      readdirSync(join(dirOf(stack.dataDir, hosted), "repodata")).every((f) =>
        /^[0-9a-f]{64}-|^repomd\.xml(\.asc)?$/.test(f),
      ),
    ).toBe(true);
    const listed = await stack.call("GET", "/repository:list");
    expect(listed.json.repositories.map((r: { repository: string }) => r.repository)).toEqual(
      expect.arrayContaining([hosted, ...nested]),
    );
  });

  it("serves only the data files the published repomd.xml lists, and the previous generation's for the grace period", async () => {
    const repository = "artifacts/yum/lay-listed";
    expect((await stack.upload(repository, rpms[3]!, { wait: true })).status).toBe(201);
    const first = parseRepomd((await get(`${stack.repoUrl(repository)}repodata/repomd.xml`)).body.toString());
    const repodata = join(dirOf(stack.dataDir, repository), "repodata");
    // Files in the folder that no repomd.xml lists: never served, whatever their name.
    const primary = first.records
      .find((r) => r.type === "primary")!
      .location.split("/")
      .pop()!;
    const strays = ["stray.txt", `${"0".repeat(64)}-primary.xml.gz`, `.${primary}.tmp`];
    for (const stray of strays) writeFileSync(join(repodata, stray), "not listed\n");
    for (const stray of strays)
      expect((await get(`${stack.repoUrl(repository)}repodata/${stray}`)).status).toBe(404);

    expect((await stack.upload(repository, rpms[4]!, { wait: true })).status).toBe(201);
    const second = parseRepomd(
      (await get(`${stack.repoUrl(repository)}repodata/repomd.xml`)).body.toString(),
    );
    expect(second.records.map((r) => r.location)).not.toContain(`repodata/${primary}`);
    // A client that read the first repomd.xml just before still gets what it lists.
    for (const record of first.records) {
      const { status, body } = await get(`${stack.repoUrl(repository)}${record.location}`);
      expect(status, record.location).toBe(200);
      expect(sha256(body)).toBe(record.checksum.value);
    }
  });
});

describe("a data dir of the previous layout keeps working with this build", () => {
  let dataDir: string;
  let rpms: string[];
  const hosted = "artifacts/yum/old-hosted";
  const nested = `${hosted}/repodata`;
  const plain = "artifacts/yum/old/team/el9";
  const before: Record<string, { repomd: string; packages: Record<string, string> }> = {};

  beforeAll(async () => {
    dataDir = makeTempDir("legacy-datadir");
    rpms = await manyFixtures(makeTempDir("legacy-rpms"), 4, { prefix: "legacytest-" });
    // Real repositories first (an index, blobs, published repodata), as a running build makes them...
    const first = await startStack({ name: "legacy-make", dataDir });
    try {
      for (const [i, repository] of [hosted, hosted, plain].entries())
        expect((await first.upload(repository, rpms[i]!, { wait: true })).status).toBe(201);
      const properties = { mirror: true, mirror_urls: [mirrorUrl], tls_key: tlsKey };
      expect((await first.call("POST", "/repository", { repository: nested, properties })).status).toBe(200);
      for (const repository of [hosted, plain]) {
        const repomd = (await get(`${first.repoUrl(repository)}repodata/repomd.xml`)).body.toString();
        const packages: Record<string, string> = {};
        for (const p of (await fetchPrimary(first.repoUrl(repository))).packages) packages[p.href] = p.pkgid;
        before[repository] = { repomd, packages };
      }
    } finally {
      await first.stop();
    }
    // ...then laid out by hand as the previous build kept them: <datadir>/artifacts/yum/<name>/ with
    // <name> as nested folders (the nested mirror's index.db, blobs/ and repodata/ inside hosted's
    // repodata/ folder, team/el9 under old/), indexes without the table this build added, and no
    // marker of this layout.
    for (const repository of [hosted, nested, plain]) {
      const from = dirOf(dataDir, repository);
      const to = join(dataDir, repository);
      if (from !== to) {
        mkdirSync(to, { recursive: true });
        for (const entry of readdirSync(from)) renameSync(join(from, entry), join(to, entry));
        rmSync(from, { recursive: true });
      }
      const db = new Database(join(to, "index.db"));
      db.exec("DROP TABLE IF EXISTS retired_repomd");
      // The previous builds wrote no schema version (PRAGMA user_version 0): this one migrates from it.
      db.pragma("user_version = 0");
      db.close();
    }
    rmSync(join(dataDir, ".beskar-yum-layout"));
    expect(existsSync(join(dataDir, hosted, "repodata", "index.db"))).toBe(true);
    expect(readdirSync(join(dataDir, hosted, "repodata")).some((f) => f.endsWith("-primary.xml.gz"))).toBe(
      true,
    );
  });
  afterAll(async () => {
    await cleanupTempDirs();
  });

  it("moves every repository to its own directory at start and serves them as before, secrets included nowhere", async () => {
    const stack = await startStack({ name: "legacy-run", dataDir });
    try {
      expect(stack.api.output()).toMatch(/nested repositories moved out of one another/);
      const listed = await stack.call("GET", "/repository:list");
      expect(listed.json.repositories.map((r: { repository: string }) => r.repository).sort()).toEqual(
        [hosted, nested, plain].sort(),
      );
      for (const repository of [hosted, plain]) {
        const repomd = await get(`${stack.repoUrl(repository)}repodata/repomd.xml`);
        expect(repomd.body.toString()).toBe(before[repository]!.repomd);
        expect(await missingRepodataFiles(stack.repoUrl(repository))).toEqual([]);
        for (const [href, pkgid] of Object.entries(before[repository]!.packages)) {
          const { status, body } = await get(`${stack.repoUrl(repository)}${href}`);
          expect(status, href).toBe(200);
          expect(sha256(body)).toBe(pkgid);
        }
      }
      const mirror = await stack.call("GET", "/repository", { repository: nested });
      expect(mirror.status).toBe(200);
      expect(mirror.json.properties).toMatchObject({ mirror: true, tls_key: "(set)" });
      for (const file of ["index.db", "index.db-wal", "index.db-shm"]) {
        const { status, body } = await get(`${stack.repoUrl(hosted)}repodata/${file}`);
        expect(status, file).toBe(404);
        for (const secret of secrets) expect(body.toString("latin1")).not.toContain(secret);
      }
      // Publishing goes on (the previous layout's next publish deleted the nested index, then EISDIR).
      expect((await stack.upload(hosted, rpms[3]!, { wait: true })).status).toBe(201);
      expect((await fetchPrimary(stack.repoUrl(hosted))).packages).toHaveLength(3);
      expect((await stack.call("GET", "/repository", { repository: nested })).status).toBe(200);
      // Side by side now: the nested folders are gone, hosted's repodata/ holds only its own files.
      expect(readdirSync(join(dataDir, "artifacts", "yum")).sort()).toEqual(
        [hosted, nested, plain].map(keyOf).sort(),
      );
      expect(existsSync(join(dataDir, "artifacts", "yum", "old"))).toBe(false);
      const hostedRepodata = readdirSync(join(dirOf(dataDir, hosted), "repodata"));
      expect(
        hostedRepodata.every((f) => /^[0-9a-f]{64}-|^repomd\.xml(\.asc)?$/.test(f)),
        hostedRepodata.join(),
      ).toBe(true);
      expect(readFileSync(join(dirOf(dataDir, nested), "index.db")).length).toBeGreaterThan(0);
    } finally {
      await stack.stop();
    }
  });
});
