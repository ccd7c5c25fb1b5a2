import { describe, expect, it } from "vitest";
import { defaultProperties, mergeProperties } from "./repository-properties.js";

const mirror = { ...defaultProperties, mirror: true };

describe("metalink and mirrorlist properties", () => {
  it("takes an http(s) URL, keeps its query, and removes it with an empty string", () => {
    const url = "https://mirrors.fedoraproject.org/metalink?repo=epel-9&arch=x86_64";
    const merged = mergeProperties(mirror, { metalink: url });
    expect(merged.metalink).toBe(url);
    expect(mergeProperties(merged, { metalink: "" }).metalink).toBe("");
    expect(mergeProperties(mirror, { mirrorlist: "http://m.example/list" }).mirrorlist).toBe(
      "http://m.example/list",
    );
  });

  it("names a dnf variable left in the URL", () => {
    expect(() =>
      mergeProperties(mirror, {
        metalink: "https://m.example/metalink?repo=epel-$releasever&arch=$basearch",
      }),
    ).toThrow(/^properties\.metalink: the URL still contains the dnf variable \$releasever: substitute it/);
    expect(() => mergeProperties(mirror, { mirrorlist: "https://m.example/$contentdir/list" })).toThrow(
      /dnf variable \$contentdir/,
    );
  });

  it("refuses other schemes, both lists at once, and on_demand without mirror_urls", () => {
    expect(() => mergeProperties(mirror, { metalink: "file:///etc/metalink" })).toThrow(
      "properties.metalink: expected an http(s) URL",
    );
    expect(() =>
      mergeProperties(mirror, { metalink: "https://a.example/m", mirrorlist: "https://a.example/l" }),
    ).toThrow(/both set/);
    expect(() =>
      mergeProperties(mirror, { metalink: "https://a.example/m", sync_policy: "on_demand" }),
    ).toThrow(/on_demand fetches packages from mirror_urls/);
    expect(
      mergeProperties(mirror, {
        metalink: "https://a.example/m",
        mirror_urls: ["https://b.example/r/"],
        sync_policy: "on_demand",
      }).sync_policy,
    ).toBe("on_demand");
  });
});
