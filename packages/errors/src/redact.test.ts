import { describe, expect, it } from "vitest";
import { isRedactedUrl, keepStoredSecret, redactRequestUrl, redactText, redactUrl } from "./redact.js";
import { errorBody, YumError } from "./yum-error.js";

describe("redactText", () => {
  it("hides a URL's password (keeping the user), or a user alone, wherever the URL is in the text", () => {
    expect(redactText("https://u:p4ss@h.example/x")).toBe("https://u:***@h.example/x");
    expect(redactText("https://tok3n@h.example/x")).toBe("https://***@h.example/x");
    expect(redactText("mirror http://u:p@ss@h:8080/a failed; then https://h2/b")).toBe(
      "mirror http://u:***@h:8080/a failed; then https://h2/b",
    );
    expect(redactText('{"url":"http://u:s3cret@h/","next":"x@y"}')).toBe(
      '{"url":"http://u:***@h/","next":"x@y"}',
    );
    expect(redactText("http://h.example/path@v2")).toBe("http://h.example/path@v2");
  });

  it("hides credential-like query parameters, and URLs with passwords inside other parameters", () => {
    expect(redactText("/x?repository=a&access_token=abc123&wait=true")).toBe(
      "/x?repository=a&access_token=***&wait=true",
    );
    expect(redactText("/x?token=t&password=p&api_key=k&X-Amz-Signature=s")).toBe(
      "/x?token=***&password=***&api_key=***&X-Amz-Signature=***",
    );
    const query = new URLSearchParams({ mirror_url: "http://u:s3cret@h/r/" }).toString();
    const shown = redactText(`/sync:url?${query}`);
    expect(shown).not.toContain("s3cret");
    expect(decodeURIComponent(shown)).toContain("http://u:***@h/r/");
    expect(redactRequestUrl("/a?access_token=z")).toBe("/a?access_token=***");
    expect(redactRequestUrl(undefined)).toBeUndefined();
  });

  it("hides the password of a URL without its scheme (HTTP_PROXY=user:pass@proxy:3128)", () => {
    expect(redactUrl("user:pa55@proxy:3128")).toBe("user:***@proxy:3128");
    expect(redactUrl("http://user:pa55@proxy:3128")).toBe("http://user:***@proxy:3128");
    expect(redactUrl("proxy:3128")).toBe("proxy:3128");
  });

  it("hides bearer tokens, not the words around them", () => {
    expect(redactText("Authorization: Bearer abcdef0123456789")).toBe("Authorization: Bearer ***");
    expect(redactText("invalid bearer token")).toBe("invalid bearer token");
    expect(redactText("send Authorization: Bearer <admin token>")).toBe(
      "send Authorization: Bearer <admin token>",
    );
  });

  it("is what error bodies show", () => {
    const body = errorBody(
      new YumError("SYNC_FAILED", "synchronization failed: http://u:s3cret@h/: HTTP 401"),
    );
    expect(body.error.message).toBe("synchronization failed: http://u:***@h/: HTTP 401");
  });
});

describe("keepStoredSecret", () => {
  const stored = ["https://u:s3cret@a.example/repo/", "https://b.example/repo/"];

  it("takes a URL shown redacted back as the stored one it stands for", () => {
    expect(isRedactedUrl("https://u:***@a.example/repo/")).toBe(true);
    expect(isRedactedUrl("https://u:real@a.example/repo/")).toBe(false);
    expect(keepStoredSecret("https://u:***@a.example/repo/", stored, "x")).toBe(stored[0]);
    expect(keepStoredSecret("https://u:***@a.example/repo", ["https://u:s3cret@a.example/repo"], "x")).toBe(
      "https://u:s3cret@a.example/repo",
    );
    expect(keepStoredSecret("https://u:new@a.example/repo/", stored, "x")).toBe(
      "https://u:new@a.example/repo/",
    );
    expect(keepStoredSecret("https://b.example/repo/", stored, "x")).toBe("https://b.example/repo/");
  });

  it("refuses a redacted URL that matches no stored one, naming the property and no secret", () => {
    for (const url of ["https://u:***@other.example/repo/", "https://v:***@a.example/repo/"]) {
      expect(() => keepStoredSecret(url, stored, "properties.mirror_urls")).toThrow(
        /^properties\.mirror_urls: the password is the redacted \*\*\*/,
      );
    }
  });
});
