import type { Repomd } from "@beskar-yum/repodata";
import { describe, expect, it } from "vitest";
import { rollbackProblem, staleUpstream } from "./stale-check.js";

const repomd = (revision: string | undefined, ...timestamps: number[]): Repomd => ({
  ...(revision !== undefined ? { revision } : {}),
  records: timestamps.map((timestamp, i) => ({
    type: `t${i}`,
    location: `repodata/t${i}.xml.gz`,
    checksum: { type: "sha256", value: "a" },
    timestamp,
    size: 1,
  })),
});

describe("rollbackProblem", () => {
  it("refuses an older numeric revision, or an older newest timestamp", () => {
    expect(rollbackProblem(repomd("10", 5), repomd("11", 5))).toBe(
      "upstream repomd.xml revision 10 is older than the served 11",
    );
    expect(rollbackProblem(repomd("12", 4, 6), repomd("11", 7))).toBe(
      "upstream repomd.xml's newest data timestamp 6 is older than the served 7",
    );
    expect(staleUpstream("x").message).toBe("x: refusing to roll back; sync with force to accept");
    expect(staleUpstream("x").code).toBe("UPSTREAM_STALE");
  });

  it("accepts the same or newer, and compares revisions only when both are numbers", () => {
    expect(rollbackProblem(repomd("11", 7), repomd("11", 7))).toBeUndefined();
    expect(rollbackProblem(repomd("12", 8), repomd("11", 7))).toBeUndefined();
    expect(rollbackProblem(repomd("abc", 8), repomd("11", 7))).toBeUndefined();
    expect(rollbackProblem(repomd(undefined, 8), repomd("11", 7))).toBeUndefined();
  });
});
