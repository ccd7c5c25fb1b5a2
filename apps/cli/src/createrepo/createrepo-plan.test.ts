import { describe, expect, it } from "vitest";
import { type OldPackages, planPackages } from "./createrepo-plan.js";

const old = (entries: [href: string, size: number, mtime: number, type: string][]): OldPackages => ({
  byHref: new Map(entries.map((e, i) => [e[0], i])),
  count: entries.length,
  isCurrent: (i, size, mtime, type) =>
    entries[i]![1] === size && entries[i]![2] === mtime && entries[i]![3] === type,
});

describe("planPackages", () => {
  it("reuses a package whose location, size, mtime and checksum type are unchanged (createrepo_c's rule)", () => {
    const files = [
      { href: "a.rpm", size: 1, mtime: 10 },
      { href: "b.rpm", size: 2, mtime: 20 },
      { href: "c.rpm", size: 3, mtime: 31 },
      { href: "moved/d.rpm", size: 4, mtime: 40 },
      { href: "new.rpm", size: 5, mtime: 50 },
    ];
    const plan = planPackages(
      files,
      old([
        ["a.rpm", 1, 10, "sha256"],
        ["b.rpm", 2, 20, "sha1"],
        ["c.rpm", 3, 30, "sha256"],
        ["d.rpm", 4, 40, "sha256"],
        ["gone.rpm", 6, 60, "sha256"],
      ]),
      "sha256",
    );
    expect(plan.packages.map((p) => p.old)).toEqual([0, undefined, undefined, undefined, undefined]);
    expect(plan).toMatchObject({ toParse: 4, reused: 1, removed: 2 });
  });

  it("parses everything without old metadata", () => {
    expect(planPackages([{ href: "a.rpm", size: 1, mtime: 1 }], undefined, "sha256")).toMatchObject({
      toParse: 1,
      reused: 0,
      removed: 0,
    });
  });
});
