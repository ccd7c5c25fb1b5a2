import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseRpm, readRpm } from "./read-rpm.js";
import { rpmFileName } from "./rpm-file-name.js";
import type { RpmPackage } from "./rpm-package.js";
import { craftedCorpus } from "./test-support/crafted-corpus.js";
import { ROCKY_PACKAGES, rockyRpms, tempDir } from "./test-support/fixtures.js";
import { type RpmQuery, rpmQuery } from "./test-support/rpm-query.js";
import { buildRpmbuildCorpus, type RpmbuildCorpus } from "./test-support/rpmbuild-corpus.js";

const none = (s: string) => (s === "(none)" ? "" : s);

/** Our package fields against `rpm -qp` for the same file. */
function expectMatchesRpm(pkg: RpmPackage, q: RpmQuery, file: string): void {
  const subject = `${file}: `;
  expect({ file, name: pkg.name }).toEqual({ file, name: q.NAME });
  expect(String(pkg.epoch), subject).toBe(q.EPOCH === "(none)" ? "0" : q.EPOCH);
  expect([pkg.version, pkg.release], subject).toEqual([q.VERSION, q.RELEASE]);
  if (!pkg.isSource) expect(pkg.arch, subject).toBe(q.ARCH);
  expect(
    [pkg.summary, pkg.description, pkg.url, pkg.license, pkg.vendor, pkg.group, pkg.buildhost, pkg.packager],
    subject,
  ).toEqual(
    [q.SUMMARY, q.DESCRIPTION, q.URL, q.LICENSE, q.VENDOR, q.GROUP, q.BUILDHOST, q.PACKAGER].map(none),
  );
  expect(pkg.sourceRpm, subject).toBe(none(q.SOURCERPM));
  expect([pkg.buildTime, pkg.installedSize, pkg.archiveSize], subject).toEqual([
    Number(q.BUILDTIME),
    Number(q.LONGSIZE),
    Number(q.LONGARCHIVESIZE),
  ]);
  expect(pkg.signature.description ?? "(none)", subject).toBe(q.SIGNATURE);
  expect(
    pkg.files.map((f) => f.path),
    subject,
  ).toEqual(q.files.map((f) => f.path));
  expect(
    pkg.files.map((f) => f.type),
    subject,
  ).toEqual(q.files.map((f) => ((f.mode & 0o170000) === 0o040000 ? "dir" : f.flags & 64 ? "ghost" : "file")));
}

describe("readRpm", () => {
  const rocky = rockyRpms();

  it("reads all 27 Rocky RPMs like rpm -qp does", async () => {
    expect(rocky).toHaveLength(27);
    const queries = rpmQuery(rocky.map((f) => join(ROCKY_PACKAGES, f)));
    for (const [i, file] of rocky.entries()) {
      const { pkg } = await readRpm(join(ROCKY_PACKAGES, file));
      expectMatchesRpm(pkg, queries[i]!, file);
      expect(rpmFileName(pkg)).toBe(file);
      expect(pkg.signature.keyId).toBe("15af5dac6d745a60");
      expect(pkg.headerStart).toBe(4504);
    }
  });

  it("returns the main header bytes the SHA256 header digest covers", async () => {
    const result = await readRpm(join(ROCKY_PACKAGES, rocky[0]!));
    const digest = createHash("sha256").update(result.headerBytes).digest("hex");
    expect(digest).toBe(result.signatureHeader.string(273));
    expect(result.headerBytes.length).toBe(result.pkg.headerEnd - result.pkg.headerStart);
    expect([...result.headerBytes.subarray(0, 4)]).toEqual([0x8e, 0xad, 0xe8, 0x01]);
  });

  it("matches the signature description rpm -qi prints", async () => {
    const { pkg } = await readRpm(
      join(ROCKY_PACKAGES, "booth-core-debuginfo-1.0-6.ac1d34c.git.el8.2.x86_64.rpm"),
    );
    expect(pkg.signature).toEqual({
      keyId: "15af5dac6d745a60",
      description: "RSA/SHA256, Tue Apr 27 18:50:59 2021, Key ID 15af5dac6d745a60",
    });
  });

  it("honours an abort signal", async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(readRpm(join(ROCKY_PACKAGES, rocky[0]!), { signal: controller.signal })).rejects.toThrow(
      /abort/i,
    );
  });
});

describe("readRpm on rpmbuild packages", () => {
  let corpus: RpmbuildCorpus;
  let cleanup: () => void;
  beforeAll(() => {
    const tmp = tempDir("rpm-corpus");
    cleanup = tmp.cleanup;
    corpus = buildRpmbuildCorpus(tmp.dir);
  });
  afterAll(() => cleanup());

  it("agrees with rpm -qp on every field, unicode included", async () => {
    const queries = rpmQuery(corpus.files.map((f) => join(corpus.dir, f)));
    for (const [i, file] of corpus.files.entries()) {
      const { pkg } = await readRpm(join(corpus.dir, file));
      expectMatchesRpm(pkg, queries[i]!, file);
      expect(rpmFileName(pkg)).toBe(file);
      expect(pkg.isSource).toBe(file.endsWith(".src.rpm"));
      if (pkg.isSource) expect(pkg.arch).toBe("src");
    }
  });

  it("classifies dirs, ghosts and plain files and keeps header order", async () => {
    const { pkg } = await readRpm(join(corpus.dir, "corpus-2.5.1-3.test.x86_64.rpm"));
    const byPath = Object.fromEntries(pkg.files.map((f) => [f.path, f.type]));
    expect(byPath).toMatchObject({
      "/etc/corpus": "dir",
      "/etc/corpus/corpus.conf": "file",
      "/etc/corpus/generated.conf": "ghost",
      "/var/log/corpus/corpus.log": "ghost",
      "/usr/share/corpus/fïlé & <odd> 'name'.txt": "file",
    });
    const paths = pkg.files.map((f) => f.path);
    expect(paths).toEqual([...paths].sort());
  });

  it("applies createrepo_c's dependency rules", async () => {
    const { pkg } = await readRpm(join(corpus.dir, "corpus-2.5.1-3.test.x86_64.rpm"));
    const names = pkg.requires.map((d) => d.name);
    expect(names.some((n) => n.startsWith("rpmlib("))).toBe(false);
    expect(names).not.toContain("config(corpus)");
    expect(names).not.toContain("/etc/corpus/corpus.conf");
    expect(names).not.toContain("/usr/bin/corpus");
    expect(names).toContain("/usr/share/corpus/README");
    expect(names.at(-1)).toBe("libc.so.6(GLIBC_2.34)(64bit)");
    expect(pkg.requires).toContainEqual({ name: "/usr/sbin/useradd", pre: true });
    expect(pkg.requires).toContainEqual({
      name: "corpus-lt",
      flags: "LT",
      epoch: "2",
      version: "1.0",
      release: "1",
    });
    expect(pkg.provides).toContainEqual({
      name: "corpus-cap",
      flags: "EQ",
      epoch: "1",
      version: "2.0",
      release: "1",
    });
    expect(pkg.provides).toContainEqual({ name: "corpus-virtual(ünï)" });
    expect(pkg.recommends).toEqual([
      { name: "corpus-rec", flags: "GE", epoch: "0", version: "1.0" },
      { name: "corpus-rec2" },
    ]);
    expect(pkg.suggests).toEqual([{ name: "corpus-sug", flags: "LT", epoch: "0", version: "2" }]);
    expect(pkg.supplements).toEqual([{ name: "(corpus-sup and corpus-other)" }]);
    expect(pkg.enhances).toEqual([{ name: "corpus-enh", flags: "EQ", epoch: "1", version: "1" }]);
    expect(pkg.obsoletes.map((d) => d.name)).toEqual(["corpus-ancient", "corpus-old"]);
    expect(pkg.conflicts.map((d) => d.flags)).toEqual(["LT", "GT"]);
  });

  it("keeps createrepo_c's 10 newest changelogs, oldest first, with equal dates made distinct", async () => {
    const path = join(corpus.dir, "corpus-2.5.1-3.test.x86_64.rpm");
    const { pkg } = await readRpm(path);
    expect(pkg.changelogs).toHaveLength(10);
    expect(pkg.changelogs[0]!.text).toBe("- three, the tenth entry: the limit");
    const last3 = pkg.changelogs.slice(-3);
    expect(last3.map((c) => c.date)).toEqual([1704888000, 1704888001, 1704888002]);
    expect(last3[2]!.author).toBe("Jürgen Dąbrowski <jd@example.invalid> - 7:2.5.1-3.test");
    expect(pkg.changelogs.find((c) => c.text.includes("trailing"))!.author).toBe(
      "Trailing Spaces <ts@example.invalid>",
    );
    const all = await readRpm(path, { changelogLimit: -1 });
    expect(all.pkg.changelogs).toHaveLength(12);
    expect(all.pkg.changelogs[0]!.text).toBe("- one, beyond the limit");
  });

  it("parses from a prefix of the file when told the file size", async () => {
    const bytes = readFileSync(join(corpus.dir, "tinypkg-1.0-1.noarch.rpm"));
    const whole = parseRpm(bytes, { fileName: "tinypkg-1.0-1.noarch.rpm" });
    const prefix = parseRpm(bytes.subarray(0, whole.pkg.headerEnd), { fileSize: bytes.length });
    expect(prefix.pkg).toEqual(whole.pkg);
    expect(whole.fileName).toBe("tinypkg-1.0-1.noarch.rpm");
  });
});

describe("parseRpm on crafted headers", () => {
  const crafted = new Map(craftedCorpus().map((c) => [c.file.replace(/-1\.0-1\..*$/, ""), c.bytes]));
  const parse = (name: string) => parseRpm(crafted.get(name)!, { fileName: name }).pkg;

  it("maps legacy weak dependencies and MISSINGOK requires like createrepo_c", () => {
    const pkg = parse("weakdeps");
    expect(pkg.requires).toEqual([{ name: "hard-req" }]);
    expect(pkg.recommends.map((d) => d.name)).toEqual([
      "missingok-req",
      "new-recommend",
      "old-strong-suggest",
    ]);
    expect(pkg.suggests.map((d) => d.name)).toEqual(["new-suggest", "old-suggest"]);
    expect(pkg.supplements.map((d) => d.name)).toEqual(["new-supplement", "old-strong-enhance"]);
    expect(pkg.enhances.map((d) => d.name)).toEqual(["new-enhance", "old-enhance"]);
  });

  it("decodes non-UTF-8 strings as latin1", () => {
    const pkg = parse("latin1");
    expect(pkg.summary).toBe("Café crème  naïve");
    expect(pkg.packager).toBe("Jürgen <j@example.invalid>");
    expect(pkg.files.map((f) => f.path)).toEqual([
      "/usr/share/latin1",
      "/usr/share/latin1/café.txt",
      "/usr/share/latin1/ok-é.txt",
    ]);
  });

  it("uses 64-bit sizes, the epoch and the first I18N string", () => {
    const pkg = parse("longsizes");
    expect([pkg.installedSize, pkg.archiveSize, pkg.epoch, pkg.summary]).toEqual([
      5_000_000_000,
      6_000_000_000,
      3,
      "English summary",
    ]);
    expect(parse("archivesize").archiveSize).toBe(4242);
    expect(parse("weakdeps").epoch).toBe(0);
  });

  it("recognises source packages as rpm does", () => {
    const heuristic = parseRpm(crafted.get("nosrcheuristic")!).pkg;
    expect([heuristic.isSource, heuristic.arch, heuristic.sourceRpm]).toEqual([true, "src", ""]);
    expect(rpmFileName(heuristic)).toBe("nosrcheuristic-1.0-1.src.rpm");
    const none = parseRpm(crafted.get("nonesource")!).pkg;
    expect([none.isSource, none.arch, none.sourceRpm]).toEqual([false, "noarch", "(none)"]);
    const flagged = parseRpm(crafted.get("srcpkg")!).pkg;
    expect([flagged.isSource, flagged.arch]).toEqual([true, "src"]);
  });

  it("reads a legacy OLDFILENAMES file list", () => {
    expect(parse("legacyfiles").files).toEqual([
      { path: "/usr/share/legacy", type: "dir" },
      { path: "/usr/share/legacy/a", type: "ghost" },
      { path: "/usr/bin/legacy", type: "file" },
    ]);
  });
});
