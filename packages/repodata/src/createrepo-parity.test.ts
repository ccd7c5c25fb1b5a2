import { cpSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { isYumError } from "@beskar-yum/errors";
import { parseRpm } from "@beskar-yum/rpm";
import { XMLValidator } from "fast-xml-parser";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RpmType } from "../../rpm/src/tags.js";
import { craftedCorpus } from "../../rpm/src/test-support/crafted-corpus.js";
import { basicMain, craftRpm } from "../../rpm/src/test-support/crafted-rpm.js";
import { ROCKY_DIR, ROCKY_PACKAGES, rockyRpms, tempDir } from "../../rpm/src/test-support/fixtures.js";
import { buildRpmbuildCorpus } from "../../rpm/src/test-support/rpmbuild-corpus.js";
import { metadataKinds } from "./metadata-kinds.js";
import { renderPrimaryPackage } from "./primary-xml.js";
import {
  createrepo,
  fragmentPkgid,
  type OpenMetadata,
  packageFragments,
  parseMetadata,
  readRepodata,
} from "./test-support/createrepo.js";
import { documentOf, type Fragments, renderFiles } from "./test-support/render-dir.js";

/** Our documents equal createrepo_c's byte for byte (same package order as createrepo_c's). */
function expectSameDocuments(theirs: OpenMetadata, ours: Fragments): void {
  for (const kind of metadataKinds) {
    const order = packageFragments(theirs[kind]).map(fragmentPkgid);
    expect(order.length).toBe(ours[kind].size);
    expect(documentOf(kind, ours[kind], order)).toBe(theirs[kind]);
  }
}

/** The same, compared as parsed XML: every element and attribute of every package. */
function expectSameParsed(
  theirs: OpenMetadata,
  ours: Fragments,
  drop: (kind: string, pkg: Record<string, unknown>) => void = () => {},
): void {
  for (const kind of metadataKinds) {
    const a = parseMetadata(theirs[kind]);
    const order = [...a.packages.keys()];
    const b = parseMetadata(documentOf(kind, ours[kind], order));
    expect(b.root).toEqual(a.root);
    for (const id of order) {
      const theirsPkg = structuredClone(a.packages.get(id)!);
      const oursPkg = structuredClone(b.packages.get(id)!);
      drop(kind, theirsPkg);
      drop(kind, oursPkg);
      expect({ kind, id, pkg: oursPkg }).toEqual({ kind, id, pkg: theirsPkg });
    }
  }
}

describe("metadata for the Rocky RPMs", () => {
  let repo: string;
  let cleanup: () => void;
  let theirs: OpenMetadata;
  let ours: Fragments;
  beforeAll(async () => {
    const tmp = tempDir("parity-rocky");
    cleanup = tmp.cleanup;
    repo = tmp.dir;
    cpSync(ROCKY_PACKAGES, join(repo, "Packages"), { recursive: true, preserveTimestamps: true });
    theirs = createrepo(repo);
    ours = await renderFiles(join(repo, "Packages"), rockyRpms(), (f) => `Packages/${f}`);
  });
  afterAll(() => cleanup());

  it("is byte-identical to createrepo_c's, run on the same files", () => {
    expect(ours.primary.size).toBe(27);
    expectSameDocuments(theirs, ours);
  });

  it("equals createrepo_c's field by field", () => {
    expectSameParsed(theirs, ours);
  });

  it("equals the upstream Rocky repodata field by field, except each package's file time", () => {
    // `time file` is the RPM's mtime when upstream ran createrepo_c; our copies have another one.
    // Everything else (location href, checksums, header ranges, dependencies, files,
    // changelogs, sizes) must match what Rocky published.
    const upstream = readRepodata(ROCKY_DIR);
    const dropFileTime = (kind: string, pkg: Record<string, unknown>) => {
      if (kind === "primary") delete (pkg.time as Record<string, unknown>)["@file"];
    };
    expectSameParsed(upstream, ours, dropFileTime);
    for (const kind of metadataKinds) expect(parseMetadata(upstream[kind]).packages.size).toBe(27);
  });
});

describe("metadata for rpmbuild packages", () => {
  let dir: string;
  let files: string[];
  let cleanup: () => void;
  beforeAll(() => {
    const tmp = tempDir("parity-rpmbuild");
    cleanup = tmp.cleanup;
    ({ dir, files } = buildRpmbuildCorpus(tmp.dir));
  });
  afterAll(() => cleanup());

  it("is byte-identical to createrepo_c's (epochs, all dependency kinds, pre, dirs, ghosts, no files, source RPMs, unicode)", async () => {
    const theirs = createrepo(dir);
    const ours = await renderFiles(dir, files);
    expect(ours.primary.size).toBe(6);
    expectSameDocuments(theirs, ours);
    expectSameParsed(theirs, ours);
  });

  it("writes xml:base like createrepo_c --baseurl", async () => {
    const theirs = createrepo(dir, ["--baseurl", "http://example.invalid/b?x=1&y=2"]);
    const ours = await renderFiles(dir, files, (f) => f, { base: "http://example.invalid/b?x=1&y=2" });
    expectSameDocuments(theirs, ours);
    const local = createrepo(dir, ["--baseurl", "/srv/repo"]);
    expect(local.primary).toContain('<location xml:base="file:///srv/repo" href=');
    expectSameDocuments(local, await renderFiles(dir, files, (f) => f, { base: "/srv/repo" }));
  });
});

describe("metadata for crafted headers", () => {
  let dir: string;
  let cleanup: () => void;
  beforeAll(() => {
    ({ dir, cleanup } = tempDir("parity-crafted"));
  });
  afterAll(() => cleanup());

  it("is byte-identical to createrepo_c's for rules rpmbuild cannot exercise", async () => {
    const corpus = craftedCorpus();
    const sub = join(dir, "crafted");
    mkdirSync(sub);
    for (const c of corpus) writeFileSync(join(sub, c.file), c.bytes);
    const theirs = createrepo(sub);
    const ours = await renderFiles(
      sub,
      readdirSync(sub).filter((f) => f.endsWith(".rpm")),
    );
    expect(ours.primary.size).toBe(corpus.length);
    expectSameDocuments(theirs, ours);
  });

  it("refuses control characters where createrepo_c skips the package", () => {
    const sub = join(dir, "control");
    mkdirSync(sub);
    const bytes = craftRpm({
      main: basicMain("ctrl", [{ tag: 1005, type: RpmType.I18NSTRING, value: ["esc\x1b[0m"] }]),
    });
    writeFileSync(join(sub, "ctrl-1.0-1.noarch.rpm"), bytes);
    writeFileSync(join(sub, "fine-1.0-1.noarch.rpm"), craftRpm({ main: basicMain("fine") }));
    const theirs = createrepo(sub);
    expect(parseMetadata(theirs.primary).root["@packages"]).toBe("1");
    expect(theirs.primary).not.toContain("<name>ctrl</name>");
    let err: unknown;
    try {
      parseRpm(bytes);
    } catch (e) {
      err = e;
    }
    expect(isYumError(err, "RPM_BAD_HEADER")).toBe(true);
  });

  it("writes U+FFFD where createrepo_c would copy a non-character into text and break the XML", async () => {
    // Deviation on purpose: libxml2 copies U+FFFE into element text verbatim, which XML forbids.
    const bytes = craftRpm({
      main: basicMain("nonchar", [{ tag: 1004, type: RpmType.I18NSTRING, value: ["bad \xef\xbf\xbe here"] }]),
    });
    const sub = join(dir, "nonchar");
    mkdirSync(sub);
    writeFileSync(join(sub, "nonchar-1.0-1.noarch.rpm"), bytes);
    const theirs = createrepo(sub);
    expect(theirs.primary).toContain("<summary>bad \ufffe here</summary>");
    const { pkg } = parseRpm(bytes);
    const ours = renderPrimaryPackage(pkg, {
      href: "nonchar-1.0-1.noarch.rpm",
      pkgid: "0".repeat(64),
      checksumType: "sha256",
      fileSize: bytes.length,
      fileTime: 0,
    });
    expect(ours).toContain("<summary>bad \ufffd here</summary>");
    expect(XMLValidator.validate(`<metadata xmlns:rpm="r">${ours}</metadata>`)).toBe(true);
  });
});
