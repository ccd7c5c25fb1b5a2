import { describe, expect, it } from "vitest";
import { CreaterepoUsageError, parseCreaterepoArgs } from "./createrepo-options.js";

describe("parseCreaterepoArgs", () => {
  it("has createrepo_c's defaults", () => {
    expect(parseCreaterepoArgs(["repo"])).toMatchObject({
      dir: "repo",
      update: false,
      checksum: "sha256",
      compress: "gz",
      changelogLimit: 10,
      skipInvalid: false,
      keepAllMetadata: false,
      database: false,
      setTimestampToRevision: false,
    });
  });

  it("reads every option", () => {
    expect(
      parseCreaterepoArgs([
        "--update",
        "--checksum",
        "sha512",
        "--compress",
        "zstd",
        "--workers",
        "3",
        "--revision",
        "42",
        "--set-timestamp-to-revision",
        "--changelog-limit=-1",
        "--skip-invalid",
        "--keep-all-metadata",
        "--database",
        "-q",
        "--json",
        "r",
      ]),
    ).toEqual({
      dir: "r",
      update: true,
      checksum: "sha512",
      compress: "zstd",
      workers: 3,
      revision: "42",
      setTimestampToRevision: true,
      changelogLimit: -1,
      skipInvalid: true,
      keepAllMetadata: true,
      database: true,
      quiet: true,
      json: true,
    });
    expect(parseCreaterepoArgs(["--help"])).toBe("help");
  });

  it("refuses what createrepo would get wrong", () => {
    for (const args of [
      [],
      ["a", "b"],
      ["r", "--checksum", "md5"],
      ["r", "--compress", "bz2"],
      ["r", "--workers", "0"],
      ["r", "--changelog-limit", "x"],
      ["r", "--revision", "a<b"],
      ["r", "--revision", "abc", "--set-timestamp-to-revision"],
      ["r", "--unknown"],
    ]) {
      expect(() => parseCreaterepoArgs(args), args.join(" ")).toThrow(CreaterepoUsageError);
    }
  });
});
