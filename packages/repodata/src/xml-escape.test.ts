import { isYumError } from "@beskar-yum/errors";
import { XMLParser, XMLValidator } from "fast-xml-parser";
import { describe, expect, it } from "vitest";
import { escapeAttr, escapeDocumentAttr, escapeText } from "./xml-escape.js";

describe("escapeText", () => {
  it("escapes like libxml2 element content", () => {
    expect(escapeText(`a & b < c > d "e" 'f'\tg\nh\ri`)).toBe(`a &amp; b &lt; c &gt; d "e" 'f'\tg\nh&#13;i`);
    expect(escapeText("ünïcödé 😀")).toBe("ünïcödé 😀");
  });

  it("keeps XML well-formed: non-characters and lone surrogates become U+FFFD, controls are refused", () => {
    expect(escapeText("a\ufffeb\uffffc\ud800d")).toBe("a\ufffdb\ufffdc\ufffdd");
    let err: unknown;
    try {
      escapeText("bell\x07", "summary");
    } catch (e) {
      err = e;
    }
    expect(isYumError(err, "REPODATA_INVALID")).toBe(true);
    expect((err as Error).message).toBe(
      "summary: control character 0x07 at position 4 cannot be written to XML",
    );
  });
});

describe("escapeAttr", () => {
  it("escapes like libxml2 attributes of a document-less node: non-ASCII as hex references", () => {
    expect(escapeAttr(`a&b<c>d"e'f\tg\nh\ri`)).toBe("a&amp;b&lt;c&gt;d&quot;e'f&#9;g&#10;h&#13;i");
    expect(escapeAttr("Dąbrowski ü 😀")).toBe("D&#x105;browski &#xFC; &#x1F600;");
    expect(escapeAttr("x\ufffey")).toBe("x&#xEF;&#xBF;&#xBE;y");
    expect(escapeAttr("lone\udc00")).toBe("lone&#xFFFD;");
  });

  it("round-trips through an XML parser", () => {
    const value = `odd "value" & <more> ünï\t\n\r 😀`;
    const xml = `<e a="${escapeAttr(value)}">${escapeText(value)}</e>`;
    expect(XMLValidator.validate(xml)).toBe(true);
    const parsed = new XMLParser({ ignoreAttributes: false, trimValues: false, htmlEntities: true }).parse(
      xml,
    );
    expect(parsed.e["@_a"]).toBe(value);
  });
});

describe("escapeDocumentAttr", () => {
  it("leaves non-ASCII alone, as libxml2 does when the document has an encoding", () => {
    expect(escapeDocumentAttr('cpe:/o:ünï&"x"')).toBe("cpe:/o:ünï&amp;&quot;x&quot;");
  });
});
