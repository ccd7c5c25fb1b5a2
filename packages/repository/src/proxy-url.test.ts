import { describe, expect, it } from "vitest";
import { defaultProperties, mergeProperties, propertiesView } from "./repository-properties.js";

const merge = (input: unknown, base = defaultProperties) => mergeProperties(base, input);

describe("the proxy_url property", () => {
  it("takes an http(s) proxy URL with credentials, and shows it with the password hidden", () => {
    const props = merge({ proxy_url: "http://squid:s3cret@proxy.example:3128" });
    expect(props.proxy_url).toBe("http://squid:s3cret@proxy.example:3128");
    const view = propertiesView(props);
    expect(view.proxy_url).toBe("http://squid:***@proxy.example:3128/");
    expect(JSON.stringify(view)).not.toContain("s3cret");
    expect(propertiesView(merge({ proxy_url: "https://proxy.example/" })).proxy_url).toBe(
      "https://proxy.example/",
    );
  });

  it('keeps the stored password when the redacted view is written back, and removes the proxy with ""', () => {
    const stored = merge({ proxy_url: "http://squid:s3cret@proxy.example:3128" });
    const view = propertiesView(stored);
    expect(merge({ proxy_url: view.proxy_url }, stored).proxy_url).toBe(
      "http://squid:s3cret@proxy.example:3128",
    );
    expect(() => merge({ proxy_url: "http://squid:***@other.example:3128" }, stored)).toThrow(
      /password is the redacted \*\*\* of GET \/repository/,
    );
    expect(merge({ proxy_url: "" }, stored).proxy_url).toBe("");
  });

  it("refuses what is not an http(s) proxy URL, without echoing a password", () => {
    for (const bad of ["socks5://u:s3cret@proxy:1080", "not a url", "http://proxy:3128/?x=1", 3128]) {
      expect(() => merge({ proxy_url: bad }), String(bad)).toThrow(/^properties\.proxy_url: /);
      try {
        merge({ proxy_url: bad });
      } catch (err) {
        expect((err as { code: string }).code).toBe("INVALID_ARGUMENT");
        expect((err as Error).message).not.toContain("s3cret");
      }
    }
  });
});
