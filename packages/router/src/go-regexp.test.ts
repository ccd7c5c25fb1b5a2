import { isYumError } from "@beskar-yum/errors";
import { describe, expect, it } from "vitest";
import { captureGroupCount, compileGoRegExp } from "./go-regexp.js";

describe("compileGoRegExp", () => {
  it("keeps the submatches of data.json's patterns", () => {
    const packages = compileGoRegExp(
      "^/(artifacts/yum/[a-z0-9]+(?:[/._-][a-z0-9]+)*)/repo/.*?([^/]+\\.[s]?rpm)$",
    );
    expect(packages.exec("/artifacts/yum/a/repo/b/repo/x/y.src.rpm")?.slice(1)).toEqual([
      "artifacts/yum/a/repo/b",
      "y.src.rpm",
    ]);
  });

  it("makes . exclude only \\n, as in Go", () => {
    const dot = compileGoRegExp("^a.b$");
    expect(dot.test("a\rb")).toBe(true);
    expect(dot.test("a\u2028b")).toBe(true);
    expect(dot.test("a\nb")).toBe(false);
    expect(compileGoRegExp("^[.]$").test("x")).toBe(false);
  });

  it("matches runes, not UTF-16 code units", () => {
    expect(compileGoRegExp("^.$").test("😀")).toBe(true);
  });

  it("keeps \\s ASCII, as in Go", () => {
    expect(compileGoRegExp("^\\s$").test("\u00a0")).toBe(false);
    expect(compileGoRegExp("^[\\s]$").test("\t")).toBe(true);
    expect(compileGoRegExp("^\\S$").test("\u00a0")).toBe(true);
  });

  it.each([
    ["(?i)abc", "(? other than (?:"],
    ["(?P<x>a)", "(? other than (?:"],
    ["[[:alpha:]]", "a POSIX class"],
    ["[]a]", "a class starting with ]"],
    ["\\Aabc", "\\A"],
    ["abc\\z", "\\z"],
    ["\\pL", "\\p"],
    ["(a)\\1", "\\1"],
    ["[a", "an unterminated class"],
    ["a\\", "a trailing backslash"],
  ])("refuses %s (%s)", (pattern, what) => {
    expect(() => compileGoRegExp(pattern)).toThrow(what);
  });

  it("reports an invalid pattern as CONFIG_INVALID", () => {
    try {
      compileGoRegExp("(a");
      expect.unreachable();
    } catch (err) {
      expect(isYumError(err, "CONFIG_INVALID")).toBe(true);
    }
  });
});

describe("captureGroupCount", () => {
  it("counts capturing groups only", () => {
    expect(captureGroupCount(compileGoRegExp("^(a)(?:b)(c(d))$"))).toBe(3);
    expect(captureGroupCount(compileGoRegExp("^a$"))).toBe(0);
  });
});
