import { lstatSync, mkdtempSync, readdirSync, readlinkSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { renderRepomd } from "@beskar-yum/repodata";
import { FsBlobStore, type RepositoryPaths, SqliteRepoIndex } from "@beskar-yum/storage";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { fakeRecord } from "../../storage/src/test-support/fake-record.js";
import { FrontTree } from "./front-tree.js";

/** Files and symlinks under `dir`, relative to it, sorted. */
function entries(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names
    .flatMap((name) =>
      lstatSync(join(dir, name)).isDirectory() ? entries(join(dir, name)).map((e) => `${name}/${e}`) : [name],
    )
    .sort();
}

const digest = (c: string) => c.repeat(64);

describe("front tree", () => {
  let dir: string;
  let tree: FrontTree;
  const indexes: SqliteRepoIndex[] = [];
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "byfront-"));
    tree = new FrontTree(join(dir, "front"));
  });
  afterEach(() => {
    for (const index of indexes.splice(0)) index.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A mirror repository whose index holds packages at `hrefs` (id per href) and a published repomd.xml. */
  async function repository(key: string, hrefs: Record<string, string>) {
    const paths: RepositoryPaths = {
      root: join(dir, key),
      index: join(dir, key, "index.db"),
      blobs: join(dir, key, "blobs"),
      repodata: join(dir, key, "repodata"),
    };
    const index = SqliteRepoIndex.open(join(dir, `${key}.db`), { create: true });
    indexes.push(index);
    await index.createRepository({ mirror: true, mirror_urls: [], gpg_key: "" }, 0);
    const generation = async (current: Record<string, string>, revision: number) => {
      const records = Object.entries(current).map(([href, id], i) => fakeRecord(`t${i}`, { href, id }));
      await index.stagePackages(1, records);
      const gone = (await index.listPackageSummaries(1000)).map((r) => r.href).filter((h) => !(h in current));
      await index.commitMirrorGeneration(1, {
        deleteTags: [],
        deleteHrefs: gone,
        revision,
        repomd: renderRepomd({ revision, records: [] }),
        repomdAsc: undefined,
      });
    };
    await generation(hrefs, 1);
    return { index, paths, generation };
  }

  it("writes each package at its URL only where the API reads that URL back as the same repository", async () => {
    const a = await repository("a", {
      "Packages/x.rpm": digest("a"),
      // `/artifacts/yum/a/repo/b/repo/y.rpm` is repository `a/repo/b`'s URL in the API, not `a`'s.
      "b/repo/y.rpm": digest("b"),
      // Outside the URL alphabet nginx sends to the tree, or not a package URL at all: left to the API.
      "Packages/we ird.rpm": digest("c"),
      "Packages/%41.rpm": digest("d"),
      "repodata/z.rpm": digest("e"),
    });
    await tree.of("artifacts/yum/a").update(a.index, a.paths);
    const base = join(dir, "front", "artifacts/yum/a/repo");
    expect(entries(base)).toEqual(["Packages/x.rpm", "repodata/repomd.xml"]);
    expect(readlinkSync(join(base, "Packages/x.rpm"))).toBe(
      new FsBlobStore(a.paths.blobs).pathOf(digest("a")),
    );

    // A nested repository's entries live inside `a`'s directory: each leaves the other's alone.
    const nested = await repository("nested", { "Packages/w.rpm": digest("f") });
    await tree.of("artifacts/yum/a/repo/b").update(nested.index, nested.paths);
    await tree.of("artifacts/yum/a").update(a.index, a.paths);
    expect(entries(base)).toEqual([
      "Packages/x.rpm",
      "b/repo/Packages/w.rpm",
      "b/repo/repodata/repomd.xml",
      "repodata/repomd.xml",
    ]);
    await tree.of("artifacts/yum/a").remove();
    expect(entries(base)).toEqual(["b/repo/Packages/w.rpm", "b/repo/repodata/repomd.xml"]);

    // At worker start: entries of repositories that are gone (and anything unparseable) go.
    await tree.of("artifacts/yum/a").update(a.index, a.paths);
    expect(tree.prune((repository) => repository === "artifacts/yum/a")).toBe(2);
    expect(entries(base)).toEqual(["Packages/x.rpm", "repodata/repomd.xml"]);
  });

  it("retracts what a commit may make stale before it, and follows the index after it", async () => {
    const a = await repository("a", { "Packages/x.rpm": digest("a"), "Packages/y.rpm": digest("b") });
    const front = tree.of("artifacts/yum/a");
    const base = join(dir, "front", "artifacts/yum/a/repo");
    await front.update(a.index, a.paths);
    expect(entries(base)).toEqual(["Packages/x.rpm", "Packages/y.rpm", "repodata/repomd.xml"]);

    // Before a commit: repomd.xml goes; packages the index still holds at their href stay.
    await front.retract(a.index, a.paths);
    expect(entries(base)).toEqual(["Packages/x.rpm", "Packages/y.rpm"]);
    // The index now holds other bytes at x's href (a replacement) and no y: both go before the next commit.
    await a.generation({ "Packages/x.rpm": digest("c") }, 2);
    await front.retract(a.index, a.paths);
    expect(entries(base)).toEqual([]);
    await front.update(a.index, a.paths);
    expect(entries(base)).toEqual(["Packages/x.rpm", "repodata/repomd.xml"]);
    expect(readlinkSync(join(base, "Packages/x.rpm"))).toBe(
      new FsBlobStore(a.paths.blobs).pathOf(digest("c")),
    );
    // A mirror commit replacing a package the index does not show yet: named, it goes first.
    await front.retract(a.index, a.paths, { hrefs: ["Packages/x.rpm"] });
    expect(entries(base)).toEqual([]);
  });
});
