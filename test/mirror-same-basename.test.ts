import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fetchPrimary } from "./harness/repodata-client.js";
import { type Stack, startStack } from "./harness/stack.js";
import { startUpstream, type Upstream } from "./harness/upstream.js";
import { createrepoC } from "./support/createrepo.js";
import { makeDnf } from "./support/dnf.js";
import { buildRpms } from "./support/rpm-fixtures.js";
import { cleanupTempDirs, makeTempDir } from "./support/tmp.js";

const sha256 = (data: Buffer) => createHash("sha256").update(data).digest("hex");
const md5 = (text: string) => createHash("md5").update(text).digest("hex");

/**
 * Real trees hold packages of one file name in several folders (debug and non-debug, two arches'
 * copies of a noarch package). Each is served at its own href, so that dnf's checksums match.
 */
describe("a mirror whose upstream has two packages of one file name in two folders", () => {
  let stack: Stack;
  let upstream: Upstream;
  let tree: string;
  const repo = "artifacts/yum/m-same-basename";
  const file = "samename-1.0-1.noarch.rpm";

  beforeAll(async () => {
    tree = makeTempDir("same-basename-upstream");
    // Same NEVRA, different content: another file inside.
    for (const [folder, content] of [
      ["a", "built in folder a\n"],
      ["b", "built in folder b, with different bytes\n"],
    ] as const) {
      await buildRpms(
        [{ name: "samename", arch: "noarch", files: { "/usr/share/samename/FOLDER": content } }],
        join(tree, folder),
      );
    }
    await createrepoC(tree);
    upstream = await startUpstream({ tree });
    stack = await startStack({ name: "same-basename" });
  });
  afterAll(async () => {
    await stack?.stop();
    await upstream?.server.close();
    await cleanupTempDirs();
  });

  it("serves each byte-identical at its href, keeps both across syncs, and dnf installs from primary", async () => {
    const a = readFileSync(join(tree, "a", file));
    const b = readFileSync(join(tree, "b", file));
    expect(sha256(a)).not.toBe(sha256(b));

    const properties = { mirror: true, mirror_urls: [upstream.url("tree")] };
    expect((await stack.call("POST", "/repository", { repository: repo, properties })).status).toBe(200);
    const synced = await stack.call("GET", "/repository/sync", { repository: repo, wait: true });
    expect(synced.status, JSON.stringify(synced.json)).toBe(200);

    const { packages } = await fetchPrimary(stack.repoUrl(repo));
    expect(packages.map((p) => p.href).sort()).toEqual([`a/${file}`, `b/${file}`]);
    for (const pkg of packages) {
      const response = await fetch(`${stack.repoUrl(repo)}${pkg.href}`);
      expect(response.status, pkg.href).toBe(200);
      const body = Buffer.from(await response.arrayBuffer());
      expect(sha256(body), pkg.href).toBe(pkg.pkgid);
      expect(body.equals(pkg.href.startsWith("a/") ? a : b), pkg.href).toBe(true);
    }
    // Beskar's route (by file name, any folder) still answers: the first href's package.
    const byName = Buffer.from(await (await fetch(`${stack.repoUrl(repo)}${file}`)).arrayBuffer());
    expect(byName.equals(a)).toBe(true);

    // Both rows are kept, under Beskar's tag (md5 of the file name), one id each.
    const listed = (await stack.call("GET", "/repository/package:list", { repository: repo })).json;
    const rows = listed.repository_packages as { tag: string; id: string }[];
    expect(rows.map((p) => p.id).sort()).toEqual([sha256(a), sha256(b)].sort());
    expect(new Set(rows.map((p) => p.tag))).toEqual(new Set([md5(file)]));

    // A second sync finds both stored: nothing downloaded, nothing republished.
    expect((await stack.call("GET", "/repository/sync", { repository: repo, wait: true })).status).toBe(200);
    const status = (await stack.call("GET", "/repository/sync:status", { repository: repo })).json
      .sync_status;
    expect(status).toMatchObject({
      total_packages: 2,
      synced_packages: 2,
      downloaded_packages: 0,
      sync_error: "",
    });

    const dnf = makeDnf(stack.repoUrl(repo));
    await dnf.install(["samename"]);
    expect(await dnf.installed()).toContain("samename-1.0-1.noarch");
  });
});
