import { createHash } from "node:crypto";
import { renderRepomd } from "@beskar-yum/repodata";
import { describe, expect, it } from "vitest";
import type { Metalink } from "./metalink.js";
import { selectMirror } from "./select-mirror.js";

const repomdText = (revision: number) =>
  renderRepomd({
    revision,
    records: [
      {
        type: "primary",
        location: "repodata/p.xml.gz",
        checksum: { type: "sha256", value: "a".repeat(64) },
        timestamp: revision,
        size: 1,
      },
    ],
  });
const current = repomdText(20);
const old = repomdText(10);
const metalink: Metalink = {
  mirrors: [],
  repomd: {
    size: Buffer.byteLength(current),
    hashes: { sha256: createHash("sha256").update(current).digest("hex") },
  },
  alternates: [],
};

describe("selectMirror", () => {
  it("skips a mirror whose repomd.xml does not match the metalink, and one that is down", async () => {
    const log: string[] = [];
    const served: Record<string, string | Error> = {
      "http://stale.example/": old,
      "http://down.example/": new Error("ECONNREFUSED"),
      "http://good.example/": current,
    };
    const selected = await selectMirror(Object.keys(served), {
      fetchRepomd: async (base) => {
        const answer = served[base]!;
        if (answer instanceof Error) throw answer;
        return answer;
      },
      metalink,
      force: false,
      log: (m) => log.push(m),
    });
    expect(selected.base).toBe("http://good.example/");
    expect(selected.urls).toEqual(["http://good.example/", "http://down.example/"]);
    expect(log[0]).toMatch(
      /^mirror http:\/\/stale\.example\/ is stale: its repomd\.xml .* does not match the metalink/,
    );
    expect(log[1]).toBe("mirror http://down.example/ failed (ECONNREFUSED); trying the next one");
    expect(log[2]).toBe("syncing from mirror http://good.example/");
  });

  it("without a metalink, skips a mirror older than what is served unless forced", async () => {
    const { parseRepomd } = await import("@beskar-yum/repodata");
    const fetchRepomd = async (base: string) => (base.includes("old") ? old : current);
    const options = { fetchRepomd, served: parseRepomd(current), log: () => {} };
    expect(
      (await selectMirror(["http://old.example/", "http://new.example/"], { ...options, force: false })).base,
    ).toBe("http://new.example/");
    expect((await selectMirror(["http://old.example/"], { ...options, force: true })).base).toBe(
      "http://old.example/",
    );
    await expect(selectMirror(["http://old.example/"], { ...options, force: false })).rejects.toMatchObject({
      code: "UPSTREAM_STALE",
      message:
        "upstream repomd.xml revision 10 is older than the served 20: refusing to roll back; sync with force to accept",
    });
  });
});
