import { describe, expect, it } from "vitest";
import { parseRetryAfter } from "./retry-after.js";

describe("parseRetryAfter", () => {
  const now = Date.parse("Sun, 06 Nov 1994 08:49:37 GMT");

  it("reads delay-seconds", () => {
    expect(parseRetryAfter("1", now)).toBe(1000);
    expect(parseRetryAfter(" 120 ", now)).toBe(120_000);
    expect(parseRetryAfter(["2", "9"], now)).toBe(2000);
  });

  it("reads an HTTP-date, a past one meaning now", () => {
    expect(parseRetryAfter("Sun, 06 Nov 1994 08:49:47 GMT", now)).toBe(10_000);
    expect(parseRetryAfter("Sun, 06 Nov 1994 08:00:00 GMT", now)).toBe(0);
  });

  it("ignores what it cannot read", () => {
    for (const value of [undefined, "", "-1", "1.5", "soon", "2024-01-01T00:00:00Z"]) {
      expect(parseRetryAfter(value, now)).toBeUndefined();
    }
  });
});
