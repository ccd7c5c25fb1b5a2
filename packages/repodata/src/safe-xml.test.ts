import { describe, expect, it } from "vitest";
import { checkXml, checkXmlText, doctypeProblem, walkXml } from "./safe-xml.js";

const comps = `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE comps PUBLIC "-//Red Hat, Inc.//DTD Comps info//EN" "comps.dtd">
<comps><group><id>core</id></group></comps>
`;

describe("the DOCTYPE rule", () => {
  it("accepts a DOCTYPE that only names an external DTD (every comps.xml has one)", async () => {
    expect(
      doctypeProblem(' comps PUBLIC "-//Red Hat, Inc.//DTD Comps info//EN" "comps.dtd"'),
    ).toBeUndefined();
    expect(doctypeProblem(" metadata SYSTEM 'metadata.dtd'")).toBeUndefined();
    expect(doctypeProblem(" comps")).toBeUndefined();
    await checkXml([comps], "comps.xml");
    expect(() => checkXmlText(comps, "comps.xml")).not.toThrow();
  });

  it("refuses an internal subset, and so any entity declaration", async () => {
    const bomb = `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]><lolz>&lol2;</lolz>`;
    await expect(checkXml([bomb], "x.xml")).rejects.toThrow(
      /^x\.xml: line 1: DOCTYPE declarations are not accepted with an internal subset/,
    );
    // Even an empty one, and one after an external ID.
    expect(doctypeProblem(" comps []")).toMatch(/internal subset/);
    expect(doctypeProblem(' comps SYSTEM "comps.dtd" [<!ENTITY a "b">]')).toMatch(/internal subset/);
    expect(doctypeProblem(' comps PUBLIC "bad{pubid" "x"')).toMatch(/only name an external DTD/);
  });

  it("never expands an entity it was not told about (no DTD is loaded)", async () => {
    const doc = `<!DOCTYPE comps SYSTEM "http://127.0.0.1:9/comps.dtd"><comps>&nbsp;</comps>`;
    await expect(checkXml([doc], "c.xml")).rejects.toThrow(
      /^c\.xml: not well-formed XML: line 1, column \d+: undefined entity/,
    );
  });
});

describe("walkXml", () => {
  it("streams elements with their path and text, across chunk boundaries", async () => {
    const seen: string[] = [];
    const bytes = Buffer.from("<a><b k='v'>h\u00e9llo</b><c/></a>");
    await walkXml([bytes.subarray(0, 14), bytes.subarray(14)], "t.xml", {
      open: (path, attrs) => seen.push(`open ${path.join("/")} ${JSON.stringify(attrs)}`),
      close: (path, text) => seen.push(`close ${path.join("/")} ${text}`),
    });
    expect(seen).toEqual([
      "open a {}",
      'open a/b {"k":"v"}',
      "close a/b h\u00e9llo",
      "open a/c {}",
      "close a/c ",
      "close a ",
    ]);
  });

  it("reports a visitor's error with the file and line", async () => {
    await expect(
      walkXml(["<a>\n<b/></a>"], "t.xml", {
        open: (path) => {
          if (path.at(-1) === "b") throw new Error("no b here");
        },
      }),
    ).rejects.toThrow("t.xml: line 2: no b here");
  });
});
