import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { repositoryKey, repositoryOfKey } from "./repository-layout.js";
import { RepositoryStorage } from "./repository-storage.js";
import { SqliteRepoIndex } from "./sqlite-repo-index.js";

/** A repository as the previous layout kept it: `<base>/<name>/{index.db, blobs/, repodata/}`. */
async function legacyRepository(base: string, repository: string, marker: string): Promise<void> {
  const root = join(base, repository);
  mkdirSync(join(root, "blobs", "sha256", "ab"), { recursive: true });
  mkdirSync(join(root, "repodata"), { recursive: true });
  const index = SqliteRepoIndex.open(join(root, "index.db"), { create: true });
  await index.createRepository({ mirror: false, mirror_urls: [], gpg_key: "", marker }, 1);
  index.close();
  writeFileSync(join(root, "blobs", "sha256", "ab", `ab${"0".repeat(62)}`), marker);
  writeFileSync(join(root, "repodata", `${marker}-primary.xml.gz`), marker);
}

describe("the repository layout", () => {
  let dir: string;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), "bylayout-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("names each repository's directory by its whole name as one segment, reversibly", async () => {
    expect(repositoryKey("artifacts/yum/hosted/repodata")).toBe("hosted+repodata");
    expect(repositoryKey("artifacts/yum/rocky-9.4")).toBe("rocky-9.4");
    expect(repositoryOfKey("hosted+repodata")).toBe("artifacts/yum/hosted/repodata");
    for (const bad of [
      "other/hosted",
      "artifacts/yum/../x",
      "artifacts/yum/A",
      "artifacts/yum/a+b",
      "",
      `artifacts/yum/${"a".repeat(260)}`,
    ])
      expect(() => repositoryKey(bad), bad).toThrow(/invalid repository name/);
    expect(repositoryOfKey(".tmp")).toBeUndefined();
  });

  it("moves nested repositories of the previous layout out of one another, deepest first, and removes the old tree", async () => {
    const storage = new RepositoryStorage(dir, "pre");
    const base = join(dir, "pre");
    const names = [
      "artifacts/yum/hosted",
      "artifacts/yum/hosted/repodata",
      "artifacts/yum/hosted/blobs",
      "artifacts/yum/hosted/blobs/sha256/ab",
      "artifacts/yum/team/el9",
    ];
    for (const name of names) await legacyRepository(base, name, repositoryKey(name));
    // Two processes starting together both migrate.
    const [a, b] = await Promise.all([storage.prepare(), new RepositoryStorage(dir, "pre").prepare()]);
    // Names of one segment stay where they are; nested ones move, each by one of the two.
    expect([...a.migrated, ...b.migrated].sort()).toEqual(
      names.filter((n) => n !== "artifacts/yum/hosted").sort(),
    );
    expect((await storage.listRepositories()).sort()).toEqual([...names].sort());
    for (const name of names) {
      const key = repositoryKey(name);
      expect((await (await storage.openIndex(name))?.getRepository())?.properties.marker, name).toBe(key);
      const paths = storage.paths(name);
      expect(readdirSync(paths.repodata), name).toEqual([`${key}-primary.xml.gz`]);
      expect(readFileSync(join(paths.blobs, "sha256", "ab", `ab${"0".repeat(62)}`), "utf8")).toBe(key);
    }
    // Empty folders the moves left behind are gone; hosted keeps its own files only.
    expect(readdirSync(join(base, "artifacts", "yum")).sort()).toEqual(
      ["hosted", "hosted+blobs", "hosted+blobs+sha256+ab", "hosted+repodata", "team+el9"].sort(),
    );
    expect(readdirSync(join(base, "artifacts", "yum", "hosted", "repodata"))).toEqual([
      "hosted-primary.xml.gz",
    ]);
    expect(readdirSync(join(base, "artifacts", "yum", "hosted", "blobs")).sort()).toEqual(["sha256"]);
    expect(readdirSync(base).sort()).toEqual([".beskar-yum-layout", "artifacts"]);
    // Done once: the next start does not look again.
    await legacyRepository(base, "artifacts/yum/late/comer", "late");
    expect((await storage.prepare()).migrated).toEqual([]);
    storage.close();
  });

  it("leaves a repository of the previous layout in place when the new layout has one of that name", async () => {
    const storage = new RepositoryStorage(dir);
    await storage.createIndex("artifacts/yum/both/x");
    await legacyRepository(dir, "artifacts/yum/both/x", "old");
    const result = await storage.prepare();
    expect(result.migrated).toEqual([]);
    expect(result.skipped).toEqual([
      {
        repository: "artifacts/yum/both/x",
        reason: expect.stringMatching(/holds a repository of that name/),
      },
    ]);
    expect(existsSync(join(dir, "artifacts/yum/both/x/index.db"))).toBe(true);
    // Reported at every start until resolved.
    expect((await storage.prepare()).skipped).toHaveLength(1);
    storage.close();
  });

  it("renames registry tombstones to the new key, merging with one already there", async () => {
    const storage = new RepositoryStorage(dir);
    const manifest = (tag: string) => ({ kind: "packages" as const, tag, manifestDigest: `sha256:${tag}` });
    const tombstones = join(dir, "_registry_tombstones_");
    mkdirSync(tombstones);
    writeFileSync(
      join(tombstones, `${encodeURIComponent("artifacts/yum/a/b")}.json`),
      JSON.stringify({ repository: "artifacts/yum/a/b", manifests: [manifest("old")] }),
    );
    await storage.addRegistryTombstone({ repository: "artifacts/yum/a/b", manifests: [manifest("new")] });
    await storage.prepare();
    expect(readdirSync(tombstones)).toEqual(["a+b.json"]);
    expect(await storage.listRegistryTombstones()).toEqual(["artifacts/yum/a/b"]);
    expect((await storage.registryTombstone("artifacts/yum/a/b"))?.manifests).toEqual([
      manifest("new"),
      manifest("old"),
    ]);
  });

  it("empties a deleted repository's directory (as Beskar does), and stages uploads outside every repository", async () => {
    const storage = new RepositoryStorage(dir);
    await storage.createIndex("artifacts/yum/gone");
    await storage.deleteRepository("artifacts/yum/gone");
    expect(readdirSync(join(dir, "artifacts", "yum", "gone"))).toEqual([]);
    expect(await storage.listRepositories()).toEqual([]);
    expect(storage.staging().root).toBe(join(dir, "staging"));
    storage.close();
  });
});
