import { createHash } from "node:crypto";
import { cpSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseMetadata } from "../../../../packages/repodata/src/test-support/createrepo.js";
import { ROCKY_PACKAGES, tempDir } from "../../../../packages/rpm/src/test-support/fixtures.js";
import { buildRpmbuildCorpus } from "../../../../packages/rpm/src/test-support/rpmbuild-corpus.js";
import {
  copyRepository,
  createrepoC,
  createrepoJson,
  type Repodata,
  readRepodata,
} from "./test-support/createrepo-cli.js";

const kinds = ["primary", "filelists", "other"] as const;
const pinned = ["--revision", "1700000000", "--set-timestamp-to-revision"];

/** Every package of every document equal, parsed field by field, then byte for byte. */
function expectSameMetadata(ours: Repodata, theirs: Repodata): void {
  for (const kind of kinds) {
    const a = parseMetadata(ours.docs[kind]);
    const b = parseMetadata(theirs.docs[kind]);
    expect(a.root).toEqual(b.root);
    expect([...a.packages.keys()]).toEqual([...b.packages.keys()]);
    for (const [id, pkg] of b.packages)
      expect({ kind, id, pkg: a.packages.get(id) }).toEqual({ kind, id, pkg });
    // Same order and layout too: the documents are defined to be equal byte for byte.
    expect(ours.docs[kind]).toBe(theirs.docs[kind]);
  }
}

/** repomd.xml: same revision, records, open checksums/sizes, timestamps; our own stored checksums right. */
function expectSameRepomd(ours: Repodata, theirs: Repodata, checksum: string): void {
  expect(ours.revision).toBe(theirs.revision);
  expect(ours.records.map((r) => r.type)).toEqual(theirs.records.map((r) => r.type));
  for (const kind of kinds) {
    const a = ours.records.find((r) => r.type === kind)!;
    const b = theirs.records.find((r) => r.type === kind)!;
    expect({ kind, open: a.openChecksum, openSize: a.openSize, timestamp: a.timestamp }).toEqual({
      kind,
      open: b.openChecksum,
      openSize: b.openSize,
      timestamp: b.timestamp,
    });
    const sum = createHash(checksum).update(ours.stored[kind]).digest("hex");
    expect(a.checksum).toEqual({ type: checksum, value: sum });
    expect(a.size).toBe(ours.stored[kind].length);
    expect(a.location).toBe(`repodata/${sum}-${kind}.xml.gz`);
  }
}

describe("beskar-yum createrepo", () => {
  let tmp: { dir: string; cleanup: () => void };
  let base: string;
  beforeAll(() => {
    tmp = tempDir("cli-createrepo-parity");
    base = join(tmp.dir, "base");
    cpSync(ROCKY_PACKAGES, join(base, "Packages"), { recursive: true, preserveTimestamps: true });
    // The rpmbuild corpus (epochs, every dependency kind, pre, dirs, ghosts, no files, source
    // RPMs, unicode, a long changelog) two directories down: locations keep the path.
    const corpus = buildRpmbuildCorpus(join(tmp.dir, "build"));
    mkdirSync(join(base, "extra"), { recursive: true });
    cpSync(corpus.dir, join(base, "extra", "sub"), { recursive: true, preserveTimestamps: true });
  });
  afterAll(() => tmp.cleanup());

  it("writes what createrepo_c --no-database writes, in createrepo_c's package order", async () => {
    const ours = join(tmp.dir, "ours");
    const theirs = join(tmp.dir, "theirs");
    copyRepository(base, ours);
    copyRepository(base, theirs);
    const summary = await createrepoJson([ours, ...pinned]);
    await createrepoC(theirs, pinned);
    expect(summary).toMatchObject({ packages: 33, parsed: 33, reused: 0 });
    const [a, b] = [await readRepodata(ours), await readRepodata(theirs)];
    expectSameMetadata(a, b);
    expectSameRepomd(a, b, "sha256");
    expect(a.docs.primary).toContain('<location href="extra/sub/corpus-2.5.1-3.test.x86_64.rpm"/>');
    expect(a.docs.primary).toContain('<location href="Packages/booth-core-debuginfo-');
  });

  it("writes the same empty repository as createrepo_c", async () => {
    const ours = join(tmp.dir, "empty-ours");
    const theirs = join(tmp.dir, "empty-theirs");
    mkdirSync(ours);
    mkdirSync(theirs);
    expect(await createrepoJson([ours, ...pinned])).toMatchObject({ packages: 0 });
    await createrepoC(theirs, pinned);
    const [a, b] = [await readRepodata(ours), await readRepodata(theirs)];
    expectSameMetadata(a, b);
    expectSameRepomd(a, b, "sha256");
  });

  it("matches createrepo_c with --checksum sha512 and --changelog-limit, and with sha1", async () => {
    for (const flags of [
      ["--checksum", "sha512", "--changelog-limit", "2"],
      ["--checksum", "sha1"],
    ]) {
      const ours = join(tmp.dir, `ours${flags.join("")}`);
      const theirs = join(tmp.dir, `theirs${flags.join("")}`);
      copyRepository(base, ours);
      copyRepository(base, theirs);
      await createrepoJson([ours, ...pinned, ...flags]);
      await createrepoC(theirs, [...pinned, ...flags]);
      const [a, b] = [await readRepodata(ours), await readRepodata(theirs)];
      expectSameMetadata(a, b);
      expectSameRepomd(a, b, flags[1]!);
    }
  });
});
