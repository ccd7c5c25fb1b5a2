import { readFileSync } from "node:fs";
import { join } from "node:path";
import { isYumError } from "@beskar-yum/errors";
import { parseRpm, type RpmPackage } from "@beskar-yum/rpm";
import { XMLValidator } from "fast-xml-parser";
import { describe, expect, it } from "vitest";
import { craftedCorpus } from "../../rpm/src/test-support/crafted-corpus.js";
import { withoutDigests } from "../../rpm/src/test-support/crafted-rpm.js";
import { ROCKY_PACKAGES, rockyRpms, seededRandom } from "../../rpm/src/test-support/fixtures.js";
import { renderFilelistsPackage } from "./filelists-xml.js";
import { metadataFooter, metadataHeader } from "./metadata-kinds.js";
import { renderOtherPackage } from "./other-xml.js";
import type { PackageLocation } from "./package-location.js";
import { renderPrimaryPackage } from "./primary-xml.js";

const loc: PackageLocation = {
  href: "Packages/f/foo-1-1.noarch.rpm",
  pkgid: "ab".repeat(32),
  checksumType: "sha256",
  fileSize: 10,
  fileTime: 20,
};

function documents(pkg: RpmPackage): string[] {
  return [
    metadataHeader("primary", 1) + renderPrimaryPackage(pkg, loc) + metadataFooter("primary"),
    metadataHeader("filelists", 1) + renderFilelistsPackage(pkg, loc) + metadataFooter("filelists"),
    metadataHeader("other", 1) + renderOtherPackage(pkg, loc) + metadataFooter("other"),
  ];
}

describe("metadataHeader / metadataFooter", () => {
  it("write createrepo_c's declarations, namespaces and package counts", () => {
    expect(metadataHeader("primary", 27)).toBe(
      '<?xml version="1.0" encoding="UTF-8"?>\n<metadata xmlns="http://linux.duke.edu/metadata/common" xmlns:rpm="http://linux.duke.edu/metadata/rpm" packages="27">\n',
    );
    expect(metadataHeader("filelists", 0)).toContain(
      '<filelists xmlns="http://linux.duke.edu/metadata/filelists" packages="0">',
    );
    expect(metadataHeader("other", 1)).toContain(
      '<otherdata xmlns="http://linux.duke.edu/metadata/other" packages="1">',
    );
    expect([metadataFooter("primary"), metadataFooter("filelists"), metadataFooter("other")]).toEqual([
      "</metadata>",
      "</filelists>",
      "</otherdata>",
    ]);
  });
});

describe("renderPrimaryPackage / renderFilelistsPackage / renderOtherPackage", () => {
  it("write an empty list element when every entry has an empty name, as createrepo_c does", () => {
    const bytes = craftedCorpus().find((c) => c.file.startsWith("emptydeps"))!.bytes;
    expect(renderPrimaryPackage(parseRpm(bytes).pkg, loc)).toContain("    <rpm:conflicts/>\n");
  });

  it("produce well-formed XML for every package that survives random header mutation", () => {
    const random = seededRandom(7);
    const bases = [
      ...rockyRpms()
        .slice(0, 2)
        .map((f) => withoutDigests(readFileSync(join(ROCKY_PACKAGES, f)))),
      ...craftedCorpus().map((c) => withoutDigests(c.bytes)),
    ];
    let rendered = 0;
    for (let i = 0; i < 1500; i++) {
      const bytes = Buffer.from(bases[Math.floor(random() * bases.length)]!);
      for (let k = 0; k < 3; k++)
        bytes[96 + Math.floor(random() * (bytes.length - 96 - 64))]! ^= 1 << Math.floor(random() * 8);
      let pkg: RpmPackage;
      try {
        pkg = parseRpm(bytes).pkg;
      } catch (err) {
        if (!isYumError(err)) throw err;
        continue;
      }
      for (const doc of documents(pkg)) expect(XMLValidator.validate(doc)).toBe(true);
      rendered++;
    }
    expect(rendered).toBeGreaterThan(100);
  });

  it("refuse hand-made packages with control characters instead of writing invalid XML", () => {
    const { pkg } = parseRpm(craftedCorpus()[0]!.bytes);
    expect(() => renderPrimaryPackage({ ...pkg, summary: "a\x00b" }, loc)).toThrow(/control character 0x00/);
  });
});
