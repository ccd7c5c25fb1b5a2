import { copyFileSync, mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseMetadata } from "../../../../packages/repodata/src/test-support/createrepo.js";
import { unescapeXml } from "../../../../packages/repodata/src/xml-unescape.js";
import { ROCKY_PACKAGES, rockyRpms, tempDir } from "../../../../packages/rpm/src/test-support/fixtures.js";
import { scanPackages } from "./scan-packages.js";
import { createrepoC, readRepodata } from "./test-support/createrepo-cli.js";

describe("scanPackages", () => {
  let tmp: { dir: string; cleanup: () => void };
  const names = [
    "c.rpm",
    "b/zz.rpm",
    "a/sub/aa.rpm",
    "Z/b.rpm",
    "a/b.rpm",
    "b.rpm",
    "é.rpm",
    "z.rpm",
    "Upper.rpm",
    "d.rpm/e.rpm",
    ".hidden/h.rpm",
  ];
  beforeAll(() => {
    tmp = tempDir("cli-scan");
    const rpm = join(ROCKY_PACKAGES, rockyRpms()[1]!);
    for (const n of [...names, "repodata/skipped.rpm", ".repodata.tmp-x/skipped.rpm"]) {
      mkdirSync(dirname(join(tmp.dir, n)), { recursive: true });
      copyFileSync(rpm, join(tmp.dir, n));
    }
    writeFileSync(join(tmp.dir, "notes.txt"), "not a package\n");
    symlinkSync("nowhere.rpm", join(tmp.dir, "dangling.rpm"));
  });
  afterAll(() => tmp.cleanup());

  it("finds RPMs where createrepo_c does, in its order: file name, then directory, bytewise", async () => {
    const ours = scanPackages(tmp.dir).map((f) => f.href);
    expect([...ours].sort()).toEqual([...names].sort());
    await createrepoC(tmp.dir);
    const { docs } = await readRepodata(tmp.dir);
    // createrepo_c also walks into repodata/ and work directories; we leave them out on purpose.
    const theirs = [...docs.primary.matchAll(/<location href="([^"]+)"/g)]
      .map((m) => unescapeXml(m[1]!))
      .filter((href) => !/^(repodata|\.repodata[^/]*)\//.test(href!));
    expect(ours).toEqual(theirs);
    expect(parseMetadata(docs.primary).root["@packages"]).toBe(String(names.length + 2));
  });

  it("enters a directory once however many links lead to it", () => {
    const loop = join(tmp.dir, "loopy");
    mkdirSync(join(loop, "x"), { recursive: true });
    copyFileSync(join(ROCKY_PACKAGES, rockyRpms()[1]!), join(loop, "x", "p.rpm"));
    symlinkSync("..", join(loop, "x", "up"));
    expect(scanPackages(loop).map((f) => f.href)).toEqual(["x/p.rpm"]);
  });
});
