import { cpSync, mkdirSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROCKY_PACKAGES, tempDir } from "../../rpm/src/test-support/fixtures.js";
import { buildRpmbuildCorpus } from "../../rpm/src/test-support/rpmbuild-corpus.js";
import { runTool } from "../../rpm/src/test-support/run-tool.js";
import { createrepo } from "./test-support/createrepo.js";
import { writeRepo } from "./test-support/write-repo.js";

/** Runs dnf against one local repository with a private installroot and cache. */
function dnf(repo: string, root: string, args: string[]): string {
  const out = runTool("dnf", [
    "-q",
    `--installroot=${root}`,
    "--releasever=1",
    "--setopt=reposdir=/dev/null",
    "--setopt=skip_if_unavailable=False",
    `--setopt=cachedir=${join(root, "cache")}`,
    "--nogpgcheck",
    `--repofrompath=t,file://${repo}`,
    "--repo=t",
    ...args,
  ]);
  return out.split(repo).join("<repo>");
}

const queries: [string, string[]][] = [
  [
    "nevra + every dependency kind",
    [
      "repoquery",
      "--qf",
      "%{name}|%{epoch}|%{version}|%{release}|%{arch}|%{sourcerpm}|%{buildtime}|%{size}|%{installsize}|%{license}|%{vendor}|%{packager}|%{url}|%{summary}\nP:%{provides}\nR:%{requires}\nRp:%{requires_pre}\nC:%{conflicts}\nO:%{obsoletes}\nRe:%{recommends}\nS:%{suggests}\nSu:%{supplements}\nE:%{enhances}\n--",
    ],
  ],
  ["--provides", ["repoquery", "--provides"]],
  ["--requires", ["repoquery", "--requires"]],
  ["--requires --resolve", ["repoquery", "--requires", "--resolve"]],
  ["--whatprovides a file", ["repoquery", "--whatprovides", "/usr/bin/corpus"]],
  ["file lists", ["repoquery", "-l"]],
  ["changelogs", ["repoquery", "--changelogs", "corpus", "booth-core-debuginfo"]],
  ["locations", ["repoquery", "--location"]],
  ["info", ["info", "--all"]],
];

describe("repositories written by writeMetadataFile + renderRepomd", () => {
  let tmp: { dir: string; cleanup: () => void };
  let ours: string;
  let theirs: string;
  beforeAll(async () => {
    tmp = tempDir("dnf");
    const corpus = buildRpmbuildCorpus(join(tmp.dir, "build"));
    ours = join(tmp.dir, "ours");
    theirs = join(tmp.dir, "theirs");
    for (const repo of [ours, theirs]) {
      cpSync(ROCKY_PACKAGES, join(repo, "Packages"), { recursive: true, preserveTimestamps: true });
      cpSync(corpus.dir, join(repo, "Packages"), { recursive: true, preserveTimestamps: true });
      mkdirSync(join(repo, "repodata"), { recursive: true });
    }
    const files = readdirSync(join(ours, "Packages"))
      .filter((f) => f.endsWith(".rpm"))
      .map((f) => `Packages/${f}`);
    await writeRepo(ours, files, 1700000000);
    createrepo(theirs);
  });
  afterAll(() => tmp.cleanup());

  it("are accepted by dnf makecache", () => {
    expect(() => dnf(ours, join(tmp.dir, "root-ours"), ["makecache"])).not.toThrow();
    expect(() => dnf(theirs, join(tmp.dir, "root-theirs"), ["makecache"])).not.toThrow();
  });

  it("answer dnf repoquery exactly like a createrepo_c-indexed copy", () => {
    for (const [label, args] of queries) {
      const a = dnf(ours, join(tmp.dir, "root-ours"), args);
      const b = dnf(theirs, join(tmp.dir, "root-theirs"), args);
      expect(a.length, label).toBeGreaterThan(0);
      expect({ label, out: a }).toEqual({ label, out: b });
    }
    const provides = dnf(ours, join(tmp.dir, "root-ours"), [
      "repoquery",
      "--provides",
      "booth-core-debuginfo",
    ]);
    expect(provides).toContain("debuginfo(build-id) = 68375f543b298dc50ff7e32df9b6445b6f80e331");
  });
});
