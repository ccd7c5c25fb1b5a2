import { describe, expect, it } from "vitest";
import { noProxyMatches, parseProxy, selectProxy } from "./proxy.js";

const url = (u: string) => new URL(u);

describe("selectProxy", () => {
  const env = {
    http: "http://p:3128",
    https: "http://s:3128",
    noProxy: "internal.example,.corp,10.0.0.1:8080",
  };

  it("takes the repository's proxy over everything, NO_PROXY included", () => {
    expect(selectProxy(url("https://internal.example/x"), { ...env, url: "http://own:1" })).toBe(
      "http://own:1",
    );
  });

  it("takes HTTPS_PROXY for https targets and HTTP_PROXY for http ones", () => {
    expect(selectProxy(url("https://cdn.example/x"), env)).toBe("http://s:3128");
    expect(selectProxy(url("http://cdn.example/x"), env)).toBe("http://p:3128");
    expect(selectProxy(url("https://cdn.example/x"), { http: "http://p:3128" })).toBeUndefined();
    expect(selectProxy(url("https://cdn.example/x"), undefined)).toBeUndefined();
  });

  it("goes direct when NO_PROXY matches", () => {
    expect(selectProxy(url("https://internal.example/x"), env)).toBeUndefined();
    expect(selectProxy(url("http://a.b.corp/x"), env)).toBeUndefined();
  });
});

describe("noProxyMatches", () => {
  const cases: Array<[string, string, boolean]> = [
    ["http://example.com/", "example.com", true],
    ["http://www.example.com/", "example.com", true],
    ["http://notexample.com/", "example.com", false],
    ["http://www.example.com/", ".example.com", true],
    ["http://example.com/", ".example.com", true],
    ["http://www.example.com/", "*.example.com", true],
    ["http://EXAMPLE.com/", "Example.COM", true],
    ["http://example.com:8080/", "example.com:8080", true],
    ["http://example.com/", "example.com:8080", false],
    ["https://example.com/", "example.com:443", true],
    ["http://10.0.0.1/", "10.0.0.1", true],
    ["http://10.0.0.10/", "10.0.0.1", false],
    ["http://[::1]:80/", "::1", true],
    ["http://[::1]:8080/", "[::1]:8080", true],
    ["http://anything/", "*", true],
    ["http://anything/", " a , b ,, *", true],
    ["http://anything/", "", false],
  ];
  for (const [target, noProxy, expected] of cases) {
    it(`${target} against ${JSON.stringify(noProxy)}: ${expected}`, () => {
      expect(noProxyMatches(url(target), noProxy)).toBe(expected);
    });
  }
});

describe("parseProxy", () => {
  it("splits credentials into Proxy-Authorization and never shows them", () => {
    const proxy = parseProxy("http://user:pa%40ss@proxy.example:3128");
    expect(proxy.authorization).toBe(`Basic ${Buffer.from("user:pa@ss").toString("base64")}`);
    expect(proxy.url.href).toBe("http://proxy.example:3128/");
    expect(proxy.display).toBe("http://user:***@proxy.example:3128/");
    expect(JSON.stringify({ ...proxy, url: proxy.url.href })).not.toContain("pa%40ss");
  });

  it("reads host:port as http, and refuses other schemes without showing the password", () => {
    expect(parseProxy("proxy.example:3128").url.href).toBe("http://proxy.example:3128/");
    expect(() => parseProxy("socks5://u:secret@h:1080")).toThrow(/only http and https proxies/);
    expect(() => parseProxy("socks5://u:secret@h:1080")).not.toThrow(/secret/);
  });
});
