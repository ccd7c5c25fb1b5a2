import { describe, expect, it } from "vitest";
import { renderFilelistsPackage } from "./filelists-xml.js";
import { metadataFooter, metadataHeader } from "./metadata-kinds.js";
import {
  fragmentPkgid,
  packageFragments,
  pkgidFragments,
  primaryFragmentInfo,
  primaryFragments,
} from "./package-fragments.js";
import { renderPrimaryPackage } from "./primary-xml.js";

const pkg = {
  name: "n&me",
  epoch: 1,
  version: "1.0",
  release: "1",
  arch: "noarch",
  isSource: false,
  summary: "s <b>",
  description: "</package> in text is escaped",
  url: "",
  license: "MIT",
  vendor: "",
  group: "",
  buildhost: "h",
  sourceRpm: "n-1.0-1.src.rpm",
  packager: "",
  buildTime: 5,
  installedSize: 6,
  archiveSize: 7,
  headerStart: 8,
  headerEnd: 9,
  provides: [],
  requires: [],
  conflicts: [],
  obsoletes: [],
  suggests: [],
  enhances: [],
  recommends: [],
  supplements: [],
  files: [{ path: "/etc/x", type: "file" as const }],
  changelogs: [],
  signature: {},
};
const loc = (href: string, pkgid: string) => ({
  href,
  pkgid,
  checksumType: "sha256" as const,
  fileSize: 1234,
  fileTime: 1700000000,
});

describe("package fragments", () => {
  const fragments = [
    renderPrimaryPackage(pkg, loc("a/ünï & co.rpm", "aa".repeat(32))),
    renderPrimaryPackage(pkg, { ...loc("b.rpm", "bb".repeat(32)), base: "http://x/" }),
  ];
  const doc = Buffer.from(metadataHeader("primary", 2) + fragments.join("") + metadataFooter("primary"));

  it("are the <package> elements verbatim, as views of the document", () => {
    const found = packageFragments(doc);
    expect(found.map((f) => f.toString())).toEqual(fragments);
    expect(found[0]!.buffer).toBe(doc.buffer);
  });

  it("give what --update keys on, in createrepo_c's layout and any other", () => {
    const [a, b] = primaryFragments(doc).map((f) => f.info);
    expect(a).toEqual({
      pkgid: "aa".repeat(32),
      checksumType: "sha256",
      href: "a/ünï & co.rpm",
      fileSize: 1234,
      fileTime: 1700000000,
    });
    expect(b).toEqual({ ...a, pkgid: "bb".repeat(32), href: "b.rpm", base: "http://x/" });
    const reordered = Buffer.from(
      '<package type="rpm"><location href="c.rpm"/><checksum pkgid="YES" type="sha">ff</checksum>' +
        '<size archive="1" package="3"/><time build="1" file="2"/><format></format></package>',
    );
    expect(primaryFragmentInfo(reordered)).toEqual({
      pkgid: "ff",
      checksumType: "sha1",
      href: "c.rpm",
      fileSize: 3,
      fileTime: 2,
    });
    expect(() => primaryFragmentInfo(Buffer.from('<package type="rpm"><name>x</name></package>'))).toThrow(
      /REPODATA_INVALID|no <checksum/,
    );
  });

  it("of filelists carry their pkgid", () => {
    const f = renderFilelistsPackage(pkg, loc("a.rpm", "cc".repeat(32)));
    const doc2 = Buffer.from(metadataHeader("filelists", 1) + f + metadataFooter("filelists"));
    expect(pkgidFragments(doc2).map((x) => [x.pkgid, x.bytes.toString()])).toEqual([["cc".repeat(32), f]]);
    expect(fragmentPkgid(Buffer.from('<package name="x" pkgid="dd">'))).toBe("dd");
  });

  it("refuse an unterminated element", () => {
    expect(() => packageFragments(Buffer.from('<package pkgid="x">\n<file>'))).toThrow(/never closed/);
  });
});
