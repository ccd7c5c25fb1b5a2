import { copyFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROCKY_PACKAGES, rockyRpms, tempDir } from "../../../../packages/rpm/src/test-support/fixtures.js";
import { createrepoCli, createrepoJson, snapshot } from "./test-support/createrepo-cli.js";

describe("beskar-yum createrepo errors", () => {
  let tmp: { dir: string; cleanup: () => void };
  let repo: string;
  let before: Record<string, number>;
  beforeAll(async () => {
    tmp = tempDir("cli-createrepo-errors");
    repo = join(tmp.dir, "repo");
    mkdirSync(join(repo, "Packages"), { recursive: true });
    for (const f of rockyRpms().slice(0, 3)) copyFileSync(join(ROCKY_PACKAGES, f), join(repo, "Packages", f));
    await createrepoJson([repo]);
    before = snapshot(repo);
    // A truncated copy of a real RPM and a file that is no RPM at all.
    const whole = readFileSync(join(ROCKY_PACKAGES, rockyRpms()[5]!));
    writeFileSync(join(repo, "Packages", "truncated.rpm"), whole.subarray(0, 3000));
    writeFileSync(join(repo, "garbage.rpm"), "not an rpm\n");
  });
  afterAll(() => tmp.cleanup());

  it("fails naming each bad RPM with its error code and leaves repodata/ untouched", async () => {
    for (const extra of [[], ["--update"]]) {
      const r = await createrepoCli([repo, ...extra]);
      expect(r.code).toBe(1);
      expect(r.stdout).toBe("");
      expect(r.stderr).toContain("2 of 5 RPMs cannot be read; repodata/ is left unchanged");
      expect(r.stderr).toMatch(
        new RegExp(
          `\\n  ${join(repo, "Packages", "truncated.rpm")}: RPM_TRUNCATED: truncated RPM: .*only 2904 available\\n`,
        ),
      );
      expect(r.stderr).toContain(
        `\n  ${join(repo, "garbage.rpm")}: RPM_BAD_MAGIC: not an RPM: lead magic at offset 0 is 6e6f7420, expected edabeedb`,
      );
      expect(snapshot(repo)).toEqual(before);
      expect(readdirSync(repo).filter((f) => f.startsWith(".repodata"))).toEqual([]);
    }
  });

  it("leaves them out with a warning under --skip-invalid, as createrepo_c does", async () => {
    const r = await createrepoCli([repo, "--skip-invalid", "--json"]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(`warning: skipping ${join(repo, "garbage.rpm")}: RPM_BAD_MAGIC`);
    const summary = JSON.parse(r.stdout);
    expect(summary).toMatchObject({ packages: 3, parsed: 3 });
    expect(summary.skipped.map((s: { code: string }) => s.code).sort()).toEqual([
      "RPM_BAD_MAGIC",
      "RPM_TRUNCATED",
    ]);
  });

  it("refuses bad arguments with the usage (exit 2) and a missing directory (exit 1)", async () => {
    const bad = await createrepoCli([repo, "--compress", "bz2"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(
      /^beskar-yum createrepo: --compress: expected gz, xz or zstd, got "bz2"\nusage:/,
    );
    expect((await createrepoCli([repo, "--workers", "0"])).code).toBe(2);
    expect((await createrepoCli([repo, "--bogus"])).code).toBe(2);
    expect((await createrepoCli([])).code).toBe(2);
    const missing = await createrepoCli([join(tmp.dir, "nope")]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("INVALID_ARGUMENT");
  });

  it("will not write while another run holds the lock, and takes over a dead one's", async () => {
    const clean = join(tmp.dir, "locked");
    mkdirSync(clean);
    copyFileSync(join(ROCKY_PACKAGES, rockyRpms()[0]!), join(clean, rockyRpms()[0]!));
    writeFileSync(join(clean, ".repodata.lock"), `${process.pid}\n`);
    const busy = await createrepoCli([clean]);
    expect(busy.code).toBe(1);
    expect(busy.stderr).toContain(`UNAVAILABLE: another createrepo (pid ${process.pid}) is writing`);
    writeFileSync(join(clean, ".repodata.lock"), "2147483646\n");
    expect((await createrepoCli([clean, "-q"])).code).toBe(0);
    expect(readdirSync(clean).sort()).toEqual([rockyRpms()[0]!, "repodata"].sort());
  });
});
