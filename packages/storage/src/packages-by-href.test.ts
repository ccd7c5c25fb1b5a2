import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { PackageRecord, RepoIndex } from "./repo-index.js";
import { indexDrivers } from "./test-support/index-drivers.js";

/** A mirror's row: Beskar's tag (md5 of the file name, here "t"), the file under `href`. */
function row(href: string, id: string, tag = "t"): PackageRecord {
  return {
    tag,
    id,
    fileName: href.split("/").pop()!,
    href,
    name: "foo",
    epoch: 0,
    version: "1.0",
    release: "1",
    arch: "noarch",
    summary: "",
    description: "",
    license: "",
    vendor: "",
    groups: "",
    sourceRpm: "",
    buildTime: 0,
    uploadTime: 1,
    size: 0,
    fileSize: 1,
    verified: false,
    gpgSignature: "",
    primaryXml: "",
    filelistsXml: "",
    otherXml: "",
    upstreamChecksum: `sha256:${id}`,
  };
}

describe.each(indexDrivers())("package rows keyed by href on $name", (driver) => {
  let index: RepoIndex;
  beforeAll(() => driver.setup());
  afterAll(() => driver.teardown());
  beforeEach(async () => {
    index = await driver.open();
  });

  const commit = (generation: { upsert?: PackageRecord[]; deleteHrefs?: string[] }, revision: number) =>
    index.commitMirrorGeneration(0, {
      deleteTags: [],
      ...generation,
      revision,
      repomd: "<r/>",
      repomdAsc: undefined,
    });

  it("keeps two packages of one file name (one tag) in two folders, staged or not, and removes one by href", async () => {
    const a = "a".repeat(64);
    const b = "b".repeat(64);
    await index.stagePackages(0, [row("b/foo-1.0-1.noarch.rpm", b)]);
    await commit({ upsert: [row("a/foo-1.0-1.noarch.rpm", a)] }, 1);
    expect((await index.listPackageChecksums()).map((p) => [p.href, p.tag])).toEqual([
      ["a/foo-1.0-1.noarch.rpm", "t"],
      ["b/foo-1.0-1.noarch.rpm", "t"],
    ]);
    expect((await index.getPackageByHref("a/foo-1.0-1.noarch.rpm"))?.id).toBe(a);
    expect((await index.getPackageByHref("b/foo-1.0-1.noarch.rpm"))?.id).toBe(b);
    expect(await index.getPackageByHref("c/foo-1.0-1.noarch.rpm")).toBeUndefined();
    // By file name and by tag: the first by href, every time.
    expect((await index.getPackageByFileName("foo-1.0-1.noarch.rpm"))?.id).toBe(a);
    expect((await index.getPackageByTag("t"))?.id).toBe(a);
    expect(await index.countPackages()).toBe(2);

    // Upstream drops a/: only that row goes, and stays fetchable at its href for a while.
    await commit({ deleteHrefs: ["a/foo-1.0-1.noarch.rpm"] }, 2);
    expect((await index.listPackages()).map((p) => p.href)).toEqual(["b/foo-1.0-1.noarch.rpm"]);
    expect(await index.getRetiredPackageByHref("a/foo-1.0-1.noarch.rpm")).toEqual({ id: a });
    expect(await index.getRetiredPackageByHref("b/foo-1.0-1.noarch.rpm")).toBeUndefined();

    // New content at b/: the row is replaced, the old file retired under its href.
    const c = "c".repeat(64);
    await commit({ upsert: [row("b/foo-1.0-1.noarch.rpm", c)] }, 3);
    expect((await index.getPackageByHref("b/foo-1.0-1.noarch.rpm"))?.id).toBe(c);
    expect(await index.getRetiredPackageByHref("b/foo-1.0-1.noarch.rpm")).toEqual({ id: b });
    // What the front tree links: each href to its blob.
    expect(await index.listPackageBlobs()).toEqual([{ href: "b/foo-1.0-1.noarch.rpm", id: c }]);
  });

  it("replaces a hosted package of the same tag (its href is its file name's) and deletes by tag", async () => {
    const upsert = async (record: PackageRecord) => {
      const seq = await index.appendEvent({ action: "publish" }, 1);
      await index.applyEvent(seq, 1, async (tx) => {
        await tx.upsertPackage(record);
        return { changed: true };
      });
    };
    await upsert(row("Packages/f/foo-1.0-1.noarch.rpm", "1".repeat(64)));
    await upsert(row("Packages/f/foo-1.0-1.noarch.rpm", "2".repeat(64)));
    expect((await index.listPackages()).map((p) => p.id)).toEqual(["2".repeat(64)]);
    expect(await index.getRetiredPackage("foo-1.0-1.noarch.rpm")).toEqual({ id: "1".repeat(64) });
    const seq = await index.appendEvent({ action: "publish" }, 1);
    await index.applyEvent(seq, 1, async (tx) => {
      await tx.deletePackage("t");
      return { changed: true };
    });
    expect(await index.countPackages()).toBe(0);
  });
});
