import { cpSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROCKY_PACKAGES, tempDir } from "../../../../packages/rpm/src/test-support/fixtures.js";
import { buildRpmbuildCorpus } from "../../../../packages/rpm/src/test-support/rpmbuild-corpus.js";
import { makeDnf } from "../../../../test/support/dnf.js";
import { startStaticServer } from "../../../../test/support/static-server.js";
import { cleanupTempDirs } from "../../../../test/support/tmp.js";
import { copyRepository, createrepoC, createrepoJson, readRepodata } from "./test-support/createrepo-cli.js";

const queries = [
  ["--qf", "%{name}|%{epoch}|%{version}|%{release}|%{arch}|%{sourcerpm}|%{installsize}|%{summary}"],
  ["--provides"],
  ["--requires"],
  ["-l"],
  ["--changelog", "corpus"],
  ["--location"],
];

describe("dnf on beskar-yum createrepo output", () => {
  let tmp: { dir: string; cleanup: () => void };
  let base: string;
  let expected: string[][];
  beforeAll(async () => {
    tmp = tempDir("cli-createrepo-dnf");
    base = join(tmp.dir, "base");
    cpSync(ROCKY_PACKAGES, join(base, "Packages"), { recursive: true, preserveTimestamps: true });
    cpSync(buildRpmbuildCorpus(join(tmp.dir, "build")).dir, join(base, "corpus"), {
      recursive: true,
      preserveTimestamps: true,
    });
    // The answers dnf gives for createrepo_c's metadata of the same files.
    const reference = join(tmp.dir, "reference");
    copyRepository(base, reference);
    await createrepoC(reference);
    expected = await answers(reference);
  });
  afterAll(async () => {
    tmp.cleanup();
    await cleanupTempDirs();
  });

  async function answers(repo: string): Promise<string[][]> {
    const server = await startStaticServer(repo);
    try {
      const dnf = makeDnf(server.url);
      await dnf.makecache();
      const out: string[][] = [];
      for (const q of queries) out.push(await dnf.repoquery(q));
      return out.map((lines) => lines.map((l) => l.replace(server.url, "<url>")));
    } finally {
      await server.close();
    }
  }

  for (const compress of ["gz", "xz", "zstd"]) {
    it(`accepts --compress ${compress} and answers as for createrepo_c's`, async () => {
      const repo = join(tmp.dir, compress);
      copyRepository(base, repo);
      await createrepoJson([repo, "--compress", compress]);
      const suffix = { gz: ".gz", xz: ".xz", zstd: ".zst" }[compress];
      const files = readdirSync(join(repo, "repodata")).filter((f) => f !== "repomd.xml");
      expect(files.map((f) => f.replace(/^[0-9a-f]{64}-/, "")).sort()).toEqual(
        ["filelists", "other", "primary"].map((k) => `${k}.xml${suffix}`),
      );
      const ours = await answers(repo);
      expect(ours.every((lines) => lines.length > 0)).toBe(true);
      expect(ours).toEqual(expected);
      // The stored file round-trips to the document, and --update reads it back.
      const docs = await readRepodata(repo);
      expect(docs.docs.primary).toContain('<metadata xmlns="http://linux.duke.edu/metadata/common"');
      expect(await createrepoJson([repo, "--update", "--compress", compress])).toMatchObject({ parsed: 0 });
    });
  }
});
