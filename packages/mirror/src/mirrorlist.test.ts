import { describe, expect, it } from "vitest";
import { parseMirrorlist } from "./mirrorlist.js";

describe("parseMirrorlist", () => {
  it("keeps the order of the http(s) lines, skipping comments, blanks and other protocols", () => {
    const text = `# repo = epel-9 arch = x86_64 country = US
https://a.example/epel/9/Everything/x86_64/

http://b.example/epel/9/Everything/x86_64/repodata/repomd.xml
ftp://c.example/epel/9/
https://a.example/epel/9/Everything/x86_64/
`;
    expect(parseMirrorlist(text)).toEqual([
      "https://a.example/epel/9/Everything/x86_64/",
      "http://b.example/epel/9/Everything/x86_64/",
    ]);
  });

  it("refuses a list without any usable mirror (an error page, say)", () => {
    expect(() => parseMirrorlist("# no mirrors for this repo\n<html>", "mirrorlist x")).toThrow(
      "mirrorlist x: lists no http(s) mirror",
    );
  });
});
