import { readFileSync } from "node:fs";
import { join } from "node:path";
import { isYumError } from "@beskar-yum/errors";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROCKY_DIR, tempDir } from "../../rpm/src/test-support/fixtures.js";
import { buildRpmbuildCorpus } from "../../rpm/src/test-support/rpmbuild-corpus.js";
import { parseRepomd } from "./parse-repomd.js";
import { renderRepomd } from "./repomd-xml.js";
import { createrepo } from "./test-support/createrepo.js";

function invalid(xml: string): string {
  try {
    parseRepomd(xml);
  } catch (err) {
    if (isYumError(err, "REPODATA_INVALID")) return err.message;
    throw err;
  }
  throw new Error("expected REPODATA_INVALID");
}

const minimal = (data: string) =>
  `<?xml version="1.0" encoding="UTF-8"?>\n<repomd xmlns="http://linux.duke.edu/metadata/repo"><revision>1</revision>${data}</repomd>`;

const goodData = `<data type="primary"><checksum type="sha256">${"a".repeat(64)}</checksum><location href="repodata/p.xml.gz"/><timestamp>1</timestamp><size>2</size></data>`;

describe("renderRepomd / parseRepomd", () => {
  let dir: string;
  let cleanup: () => void;
  beforeAll(() => {
    const tmp = tempDir("repomd");
    cleanup = tmp.cleanup;
    dir = buildRpmbuildCorpus(tmp.dir).dir;
  });
  afterAll(() => cleanup());

  it("round-trips createrepo_c's repomd.xml byte for byte, sqlite records and tags included", () => {
    createrepo(dir, [
      "--distro",
      "cpe:/o:example:os:1,Example OS 1",
      "--content",
      "binary-x86_64",
      "--repo",
      "test&<repo>",
    ]);
    const theirs = readFileSync(join(dir, "repodata", "repomd.xml"), "utf8");
    const parsed = parseRepomd(theirs);
    expect(parsed.records.map((r) => r.type)).toEqual(["primary", "filelists", "other"]);
    expect(parsed.tags).toEqual({
      content: ["binary-x86_64"],
      repo: ["test&<repo>"],
      distro: [{ cpeid: "cpe:/o:example:os:1", name: "Example OS 1" }],
    });
    expect(renderRepomd({ revision: parsed.revision!, records: parsed.records, tags: parsed.tags })).toBe(
      theirs,
    );
    const upstream = readFileSync(join(ROCKY_DIR, "repodata", "repomd.xml"), "utf8");
    const rocky = parseRepomd(upstream);
    expect(rocky.revision).toBe("8.3");
    expect(rocky.records.find((r) => r.type === "primary_db")).toMatchObject({
      databaseVersion: 10,
      openSize: 151552,
    });
    expect(renderRepomd({ revision: rocky.revision!, records: rocky.records, tags: rocky.tags })).toBe(
      upstream,
    );
  });

  it("keeps every field of a record", () => {
    const record = {
      type: "primary_zck",
      checksum: { type: "sha256", value: "1".repeat(64) },
      openChecksum: { type: "sha256", value: "2".repeat(64) },
      headerChecksum: { type: "sha256", value: "3".repeat(64) },
      location: "repodata/x-primary.xml.zck",
      locationBase: "http://example.invalid/",
      timestamp: 1700000000,
      size: 10,
      openSize: 20,
      headerSize: 30,
    };
    const xml = renderRepomd({ revision: 42, records: [record] });
    expect(xml).toContain('<location href="repodata/x-primary.xml.zck" xml:base="http://example.invalid/"/>');
    expect(parseRepomd(xml)).toEqual({ revision: "42", records: [record] });
  });

  it("rejects documents that are not valid repomd, naming what is wrong", () => {
    expect(invalid("not xml <")).toMatch(/^repomd\.xml: not well-formed XML/);
    expect(invalid("<other/>")).toBe("repomd.xml: root element is not <repomd>");
    expect(invalid(minimal(goodData.replace("<size>2</size>", "<size>-2</size>")))).toBe(
      'repomd.xml: <data type="primary"> <size>: expected a non-negative integer, got "-2"',
    );
    expect(invalid(minimal(goodData.replace('<location href="repodata/p.xml.gz"/>', "")))).toBe(
      'repomd.xml: <data type="primary">: missing <location href>',
    );
    expect(invalid(minimal(goodData.replace("repodata/p.xml.gz", "../../etc/passwd")))).toMatch(
      /unsafe location href/,
    );
    expect(invalid(minimal(goodData.replace(/<checksum[^/]*\/checksum>/, "")))).toMatch(/missing <checksum>/);
    expect(invalid(minimal(goodData.replace('type="sha256">a', 'type="sha256">z')))).toMatch(
      /expected a hex digest/,
    );
    expect(invalid(minimal(goodData + goodData))).toBe('repomd.xml: duplicate <data type="primary">');
    expect(
      invalid(minimal(goodData.replace("<timestamp>1</timestamp>", "<timestamp>&foo;</timestamp>"))),
    ).toMatch(/^repomd\.xml: not well-formed XML: line 2, column \d+: undefined entity/);
  });

  it("never expands entities", () => {
    const bomb = `<?xml version="1.0"?>\n<!DOCTYPE repomd [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>\n<repomd><revision>&b;</revision></repomd>`;
    expect(invalid(bomb)).toMatch(
      /^repomd\.xml: line 2: DOCTYPE declarations are not accepted with an internal subset/,
    );
    expect(
      parseRepomd(minimal(goodData).replace("<revision>1", "<revision>1&amp;&#x41;&#66;")).revision,
    ).toBe("1&AB");
    expect(invalid(minimal(goodData).replace("<revision>1", "<revision>&#0;"))).toMatch(
      /malformed character entity/,
    );
  });
});
