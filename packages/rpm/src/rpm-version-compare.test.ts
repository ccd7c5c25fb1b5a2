import { describe, expect, it } from "vitest";
import { rpmVersionCompare } from "./rpm-version-compare.js";
import { seededRandom } from "./test-support/fixtures.js";
import { runTool } from "./test-support/run-tool.js";

/** Cases from rpm's own test suite (tests/rpmvercmp.at). */
const cases: [string, string, number][] = [
  ["1.0", "1.0", 0],
  ["1.0", "2.0", -1],
  ["2.0.1", "2.0", 1],
  ["2.0.1a", "2.0.1", 1],
  ["5.5p1", "5.5p10", -1],
  ["10xyz", "10.1xyz", -1],
  ["xyz10", "xyz10.1", -1],
  ["xyz.4", "8", -1],
  ["8", "xyz.4", 1],
  ["5.6p1", "6.5p1", -1],
  ["6.0.rc1", "6.0", 1],
  ["10b2", "10a1", 1],
  ["1.0a", "1.0aa", -1],
  ["10.0001", "10.1", 0],
  ["10.0001", "10.0039", -1],
  ["4.999.9", "5.0", -1],
  ["20101121", "20101122", -1],
  ["2.0", "2_0", 0],
  ["a+", "a_", 0],
  ["+_", "_+", 0],
  ["1.0~rc1", "1.0", -1],
  ["1.0~rc1", "1.0~rc2", -1],
  ["1.0~rc1~git123", "1.0~rc1", -1],
  ["1.0^", "1.0", 1],
  ["1.0^git1", "1.0", 1],
  ["1.0^git1", "1.01", -1],
  ["1.0^20160101", "1.0.1", -1],
  ["1.0^20160102", "1.0^20160101^git1", 1],
  ["1.0~rc1^git1", "1.0~rc1", 1],
  ["1.0^git1~pre", "1.0^git1", -1],
];

describe("rpmVersionCompare", () => {
  it("matches rpm's test suite", () => {
    for (const [a, b, expected] of cases) {
      expect([a, b, rpmVersionCompare(a, b)]).toEqual([a, b, expected]);
      expect([b, a, rpmVersionCompare(b, a)]).toEqual([b, a, expected === 0 ? 0 : -expected]);
    }
  });

  it("agrees with librpm on random versions", () => {
    const random = seededRandom(42);
    const alphabet = "0123456789.~^_+abz";
    const version = () =>
      Array.from(
        { length: 1 + Math.floor(random() * 7) },
        () => alphabet[Math.floor(random() * alphabet.length)],
      ).join("");
    const pairs = Array.from({ length: 400 }, () => [version(), version()] as const);
    const script =
      "import rpm,sys,json\nfor a,b in json.load(sys.stdin): print(rpm.labelCompare(('0',a,'1'),('0',b,'1')))";
    const expected = runTool("/usr/bin/python3", ["-c", script], { input: JSON.stringify(pairs) })
      .trim()
      .split("\n")
      .map(Number);
    expect(pairs.map(([a, b]) => rpmVersionCompare(a, b))).toEqual(expected);
  });
});
