import { describe, expect, it } from "vitest";
import { formatFields, formatTable } from "./table.js";

describe("formatTable", () => {
  it("aligns columns under the header, with no trailing blanks", () => {
    expect(
      formatTable(
        ["NAME", "TYPE", "N"],
        [
          ["a-long-name", "hosted", "12"],
          ["b", "mirror", ""],
        ],
      ),
    ).toEqual(["NAME         TYPE    N", "a-long-name  hosted  12", "b            mirror"]);
  });

  it("prints one object as aligned key/value lines, nested values as JSON", () => {
    expect(formatFields({ mirror: true, mirror_urls: ["u"], sync_error: "" })).toEqual([
      "mirror       true",
      'mirror_urls  ["u"]',
      "sync_error",
    ]);
  });
});
