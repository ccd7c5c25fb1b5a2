import { describe, expect, it } from "vitest";
import { assertSafeHref, hrefUrl, parseMirrorUrl, redact } from "./mirror-url.js";

describe("parseMirrorUrl", () => {
  it("splits credentials off and never shows them", () => {
    const e = parseMirrorUrl("http://test:test-password@127.0.0.1:8080/auth/repo");
    expect(e.base.href).toBe("http://127.0.0.1:8080/auth/repo/");
    expect(e.authorization).toBe(`Basic ${Buffer.from("test:test-password").toString("base64")}`);
    expect(e.display).toBe("http://test:***@127.0.0.1:8080/auth/repo");
    expect(JSON.stringify(e)).not.toContain("test-password");
    expect(hrefUrl(e, "repodata/repomd.xml").href).toBe(
      "http://127.0.0.1:8080/auth/repo/repodata/repomd.xml",
    );
  });

  it("refuses other schemes and garbage", () => {
    expect(() => parseMirrorUrl("file:///etc")).toThrow(/only http and https/);
    expect(() => parseMirrorUrl("http://u:secret@")).toThrow(/not a valid URL/);
    expect(() => parseMirrorUrl("http://u:secret@")).not.toThrow(/secret/);
    expect(redact("https://a:b@h/x")).toBe("https://a:***@h/x");
    // The last @ ends the credentials, as in URL parsing: none of a password holding "@" shows.
    expect(redact("https://a:p@ss@h/x")).toBe("https://a:***@h/x");
    expect(redact("https://token@h/x")).toBe("https://***@h/x");
  });
});

describe("assertSafeHref", () => {
  it("accepts ordinary relative hrefs", () => {
    for (const href of [
      "repodata/abc-primary.xml.gz",
      "Packages/b/booth-1.0-6.el8.x86_64.rpm",
      "x/y+z~1.rpm",
    ]) {
      expect(assertSafeHref(href, "t")).toBe(href);
    }
  });

  it("refuses traversal, absolute paths, URLs and odd characters", () => {
    for (const href of [
      "../etc/passwd",
      "Packages/../../x.rpm",
      "/etc/passwd",
      "http://evil.invalid/x.rpm",
      "Packages\\x.rpm",
      "Packages/%2e%2e/x.rpm",
      "Packages/x.rpm?y",
      "Packages//x.rpm",
      "Packages/\u0000.rpm",
      "",
    ]) {
      expect(() => assertSafeHref(href, "primary.xml"), href).toThrow(/refusing location href/);
    }
  });
});
