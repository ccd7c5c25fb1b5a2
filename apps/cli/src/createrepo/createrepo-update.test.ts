import {
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  renameSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { basename, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROCKY_PACKAGES, rockyRpms, tempDir } from "../../../../packages/rpm/src/test-support/fixtures.js";
import { buildRpmbuildCorpus } from "../../../../packages/rpm/src/test-support/rpmbuild-corpus.js";
import { manyFixtures } from "../../../../test/support/rpm-fixtures.js";
import { run } from "../../../../test/support/run.js";
import {
  copyRepository,
  createrepoC,
  createrepoJson,
  type Repodata,
  readRepodata,
} from "./test-support/createrepo-cli.js";

const pinned = ["--revision", "1700000000", "--set-timestamp-to-revision"];

function expectSameDocuments(a: Repodata, b: Repodata): void {
  for (const kind of ["primary", "filelists", "other"] as const) expect(a.docs[kind]).toBe(b.docs[kind]);
  expect(a.records.map((r) => [r.type, r.openChecksum, r.openSize])).toEqual(
    b.records.map((r) => [r.type, r.openChecksum, r.openSize]),
  );
}

describe("beskar-yum createrepo --update", () => {
  let tmp: { dir: string; cleanup: () => void };
  let base: string;
  let added: string;
  beforeAll(() => {
    tmp = tempDir("cli-createrepo-update");
    base = join(tmp.dir, "base");
    cpSync(ROCKY_PACKAGES, join(base, "Packages"), { recursive: true, preserveTimestamps: true });
    const corpus = buildRpmbuildCorpus(join(tmp.dir, "build"));
    cpSync(corpus.dir, join(base, "corpus"), { recursive: true, preserveTimestamps: true });
    // Held back, to be added later.
    added = join(tmp.dir, "tinypkg-1.0-1.noarch.rpm");
    renameSync(join(base, "corpus", "tinypkg-1.0-1.noarch.rpm"), added);
  });
  afterAll(() => tmp.cleanup());

  it("after adding one RPM and removing one, parses only the new one and writes what a full run writes", async () => {
    const repo = join(tmp.dir, "add-remove");
    copyRepository(base, repo);
    expect(await createrepoJson([repo, ...pinned])).toMatchObject({ packages: 32, parsed: 32 });
    cpSync(added, join(repo, "corpus", basename(added)), { preserveTimestamps: true });
    rmSync(join(repo, "Packages", rockyRpms()[3]!));
    const update = await createrepoJson([repo, "--update", ...pinned]);
    expect(update).toMatchObject({ packages: 32, parsed: 1, reused: 31, removed: 1 });

    const full = join(tmp.dir, "add-remove-full");
    copyRepository(repo, full);
    rmSync(join(full, "repodata"), { recursive: true });
    await createrepoJson([full, ...pinned]);
    const theirs = join(tmp.dir, "add-remove-createrepo_c");
    copyRepository(full, theirs);
    rmSync(join(theirs, "repodata"), { recursive: true });
    await createrepoC(theirs, pinned);
    const [a, b, c] = [await readRepodata(repo), await readRepodata(full), await readRepodata(theirs)];
    expectSameDocuments(a, b);
    expectSameDocuments(a, c);
    expect(a.repomd).toBe(b.repomd);
  });

  it("reads a package again when its mtime or the checksum type changed", async () => {
    const repo = join(tmp.dir, "touched");
    copyRepository(base, repo);
    await createrepoJson([repo, ...pinned]);
    const touched = join(repo, "Packages", rockyRpms()[0]!);
    utimesSync(touched, new Date(), new Date(1_600_000_000_000));
    expect(await createrepoJson([repo, "--update", ...pinned])).toMatchObject({ parsed: 1, reused: 31 });
    expect(await createrepoJson([repo, "--update", "--checksum", "sha512", ...pinned])).toMatchObject({
      parsed: 32,
      reused: 0,
    });
    const full = join(tmp.dir, "touched-full");
    copyRepository(repo, full);
    await createrepoJson([full, "--checksum", "sha512", ...pinned]);
    expectSameDocuments(await readRepodata(repo), await readRepodata(full));
  });

  it("reuses repodata written by createrepo_c", async () => {
    const repo = join(tmp.dir, "from-createrepo_c");
    copyRepository(base, repo);
    await createrepoC(repo, pinned);
    cpSync(added, join(repo, "corpus", basename(added)), { preserveTimestamps: true });
    expect(await createrepoJson([repo, "--update", ...pinned])).toMatchObject({
      packages: 33,
      parsed: 1,
      reused: 32,
    });
    const theirs = join(tmp.dir, "from-createrepo_c-theirs");
    copyRepository(repo, theirs);
    await createrepoC(theirs, ["--update", ...pinned]);
    expectSameDocuments(await readRepodata(repo), await readRepodata(theirs));
  });

  it("indexes everything when there is no repodata yet", async () => {
    const repo = join(tmp.dir, "fresh");
    copyRepository(base, repo);
    expect(await createrepoJson([repo, "--update"])).toMatchObject({
      parsed: 32,
      reused: 0,
      fullIndexReason: "no existing repodata",
    });
  });

  it("removes the metadata files it replaced and a stale repomd.xml.asc, and keeps files it does not know", async () => {
    const repo = join(tmp.dir, "stale");
    copyRepository(base, repo);
    await createrepoC(repo, []);
    const before = readdirSync(join(repo, "repodata"));
    writeFileSync(join(repo, "repodata", "comps.xml"), "<comps/>\n");
    writeFileSync(join(repo, "repodata", "repomd.xml.asc"), "stale signature\n");
    mkdirSync(join(repo, ".repodata.tmp-left-by-a-crash"));
    const summary = await createrepoJson([repo, "--update"]);
    const after = readdirSync(join(repo, "repodata")).sort();
    expect(after).toEqual(
      [
        "comps.xml",
        "repomd.xml",
        ...Object.values(summary.files as Record<string, string>).map((f) => f.slice("repodata/".length)),
      ].sort(),
    );
    expect(summary.removedFiles.sort()).toEqual(
      [...before.filter((f) => f !== "repomd.xml"), "repomd.xml.asc"].sort(),
    );
    expect(readdirSync(repo).filter((f) => f.startsWith(".repodata"))).toEqual([]);
  });

  it("drops updateinfo added by modifyrepo_c as createrepo_c does, or keeps it with --keep-all-metadata", async () => {
    const repo = join(tmp.dir, "extra-metadata");
    copyRepository(base, repo);
    await createrepoJson([repo, ...pinned]);
    const updateinfo = join(tmp.dir, "updateinfo.xml");
    writeFileSync(updateinfo, '<?xml version="1.0"?>\n<updates></updates>\n');
    const modify = await run("modifyrepo_c", [updateinfo, join(repo, "repodata")]);
    expect(modify.code).toBe(0);
    const withUpdateinfo = await readRepodata(repo);
    const record = withUpdateinfo.records.find((r) => r.type === "updateinfo")!;
    const file = record.location.slice("repodata/".length);

    const kept = await createrepoJson([repo, "--update", "--keep-all-metadata", ...pinned]);
    expect(kept.parsed).toBe(0);
    const after = await readRepodata(repo);
    expect(after.records.map((r) => r.type)).toEqual(["primary", "filelists", "other", "updateinfo"]);
    expect(after.records[3]).toEqual(record);
    expect(readdirSync(join(repo, "repodata"))).toContain(file);

    const dropped = await createrepoJson([repo, "--update", ...pinned]);
    expect(dropped.removedFiles).toEqual([file]);
    expect((await readRepodata(repo)).records.map((r) => r.type)).toEqual(["primary", "filelists", "other"]);
  });
});

describe("beskar-yum createrepo --update on 300 packages", () => {
  let tmp: { dir: string; cleanup: () => void };
  let rpms: string[];
  beforeAll(async () => {
    tmp = tempDir("cli-createrepo-segments");
    rpms = await manyFixtures(join(tmp.dir, "rpms"), 301, { prefix: "segpkg-" });
  }, 120_000);
  afterAll(() => tmp.cleanup());

  it("compresses again only the segment the new package lands in", async () => {
    // Segment boundaries depend on the pkgids (a new build each run): ~2-3 segments here.
    const repo = join(tmp.dir, "repo");
    mkdirSync(repo);
    for (const rpm of rpms.slice(0, 300))
      cpSync(rpm, join(repo, basename(rpm)), { preserveTimestamps: true });
    const full = await createrepoJson([repo, ...pinned]);
    const unchanged = await createrepoJson([repo, "--update", ...pinned]);
    expect(unchanged).toMatchObject({ parsed: 0, reused: 300 });
    for (const kind of ["primary", "filelists", "other"] as const) {
      expect(unchanged.segments[kind].reused).toBe(unchanged.segments[kind].segments);
    }
    expect(unchanged.files).toEqual(full.files);

    cpSync(rpms[300]!, join(repo, basename(rpms[300]!)), { preserveTimestamps: true });
    const one = await createrepoJson([repo, "--update", ...pinned]);
    expect(one).toMatchObject({ packages: 301, parsed: 1, reused: 300 });
    for (const kind of ["primary", "filelists", "other"] as const) {
      expect(one.segments[kind].segments - one.segments[kind].reused).toBe(1);
    }
    const check = join(tmp.dir, "check");
    copyRepository(repo, check);
    rmSync(join(check, "repodata"), { recursive: true });
    await createrepoC(check, pinned);
    expectSameDocuments(await readRepodata(repo), await readRepodata(check));
    expect(existsSync(join(repo, "repodata", "repomd.xml"))).toBe(true);
  });
});
