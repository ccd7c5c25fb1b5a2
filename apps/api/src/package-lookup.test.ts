import { describe, expect, it } from "vitest";
import { requestedHref } from "./package-lookup.js";

describe("requestedHref", () => {
  const repo = "artifacts/yum/r";
  it("is the path after /<repository>/repo/, query left out and percent-decoded", () => {
    expect(requestedHref(`/${repo}/repo/a/foo-1.0-1.noarch.rpm?x=1`, repo)).toBe("a/foo-1.0-1.noarch.rpm");
    expect(requestedHref(`/${repo}/repo/Packages/l/libstdc%2B%2B-1-1.x86_64.rpm`, repo)).toBe(
      "Packages/l/libstdc++-1-1.x86_64.rpm",
    );
    expect(requestedHref(`/${repo}/repo/foo.rpm`, repo)).toBe("foo.rpm");
  });
  it("is undefined for a path that cannot be decoded or is not under the repository", () => {
    expect(requestedHref(`/${repo}/repo/%E0%A4%A/foo.rpm`, repo)).toBeUndefined();
    expect(requestedHref("/artifacts/yum/other/repo/foo.rpm", repo)).toBeUndefined();
  });
});
