import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fetchPrimary } from "./harness/repodata-client.js";
import { type Stack, startStack } from "./harness/stack.js";
import { startUpstream, type Upstream } from "./harness/upstream.js";
import { makeUpstreamVersions, type UpstreamVersions } from "./harness/upstream-versions.js";
import { makeDnf } from "./support/dnf.js";
import { freePort } from "./support/processes.js";
import { cleanupTempDirs } from "./support/tmp.js";

/**
 * Three mirrors as a mirror network has them: the first lags behind (an older repomd.xml), the
 * second is down (a closed port), the third is current. The lists rank them in that order.
 */
describe("mirrors listed by a metalink or a mirrorlist", () => {
  let stack: Stack;
  let upstream: Upstream;
  let versions: UpstreamVersions;
  let mirrors: { stale: string; down: string; good: string };

  beforeAll(async () => {
    versions = await makeUpstreamVersions("listed");
    upstream = await startUpstream({ stale: versions.old, good: versions.current });
    mirrors = {
      stale: `${upstream.url("stale")}/`,
      down: `http://127.0.0.1:${await freePort()}/repo/`,
      good: `${upstream.url("good")}/`,
    };
    const repomd = readFileSync(join(versions.current, "repodata/repomd.xml"));
    const hash = (type: string) => createHash(type).update(repomd).digest("hex");
    const url = (base: string, preference: number) =>
      `<url protocol="${base.split(":")[0]}" type="${base.split(":")[0]}" location="XX" preference="${preference}">${base}repodata/repomd.xml</url>`;
    // Shaped as mirrors.fedoraproject.org's metalink 3.0.
    const metalink = `<?xml version="1.0" encoding="utf-8"?>
<metalink version="3.0" xmlns="http://www.metalinker.org/" type="dynamic" generator="mirrormanager" xmlns:mm0="http://fedorahosted.org/mirrormanager">
 <files>
  <file name="repomd.xml">
   <mm0:timestamp>${versions.currentRevision}</mm0:timestamp>
   <size>${repomd.length}</size>
   <verification>
    <hash type="md5">${hash("md5")}</hash>
    <hash type="sha1">${hash("sha1")}</hash>
    <hash type="sha256">${hash("sha256")}</hash>
    <hash type="sha512">${hash("sha512")}</hash>
   </verification>
   <resources maxconnections="1">
    ${url(mirrors.good, 98)}
    ${url(mirrors.stale, 100)}
    ${url(mirrors.down, 99)}
   </resources>
  </file>
 </files>
</metalink>
`;
    mkdirSync(join(upstream.root, "lists"));
    writeFileSync(join(upstream.root, "lists", "metalink.xml"), metalink);
    writeFileSync(
      join(upstream.root, "lists", "mirrorlist.txt"),
      `# repo = listed arch = noarch\n${mirrors.stale}\n${mirrors.down}\n\n${mirrors.good}\n`,
    );
    stack = await startStack({ name: "mirror-listed" });
  });
  afterAll(async () => {
    await stack?.stop();
    await upstream?.server.close();
    await cleanupTempDirs();
  });

  const create = async (repository: string, properties: Record<string, unknown>) =>
    stack.call("POST", "/repository", { repository, properties: { mirror: true, ...properties } });
  const sync = (repository: string, extra: Record<string, unknown> = {}) =>
    stack.call("GET", "/repository/sync", { repository, wait: true, ...extra });
  const logs = async (repository: string): Promise<string> =>
    (await stack.call("GET", "/repository/logs", { repository })).json.logs
      .map((l: { message: string }) => l.message)
      .join("\n");
  const requestsSince = (mark: number) => upstream.server.requests.slice(mark).map((r) => r.path);

  it("metalink: skips the stale mirror (its hash exposes it) and the one that is down, syncs from the third; dnf installs", async () => {
    const repository = "artifacts/yum/m-metalink";
    // The query string of a real metalink URL (repo=, arch=) is kept.
    const created = await create(repository, {
      metalink: `${upstream.url("lists")}/metalink.xml?repo=listed&arch=noarch`,
    });
    expect(created.status, JSON.stringify(created.json)).toBe(200);
    const mark = upstream.server.requests.length;
    const synced = await sync(repository);
    expect(synced.status, JSON.stringify(synced.json)).toBe(200);

    const log = await logs(repository);
    expect(log).toContain("metalink lists 3 mirror(s)");
    expect(log).toMatch(
      new RegExp(
        `mirror ${mirrors.stale.replace(/[.]/g, "\\.")} is stale: its repomd\\.xml \\(\\d+ bytes, sha512 [0-9a-f]+\\) does not match the metalink`,
      ),
    );
    expect(log).toMatch(new RegExp(`mirror ${mirrors.down.replace(/[.]/g, "\\.")} failed \\(.*ECONNREFUSED`));
    expect(log).toContain(`syncing from mirror ${mirrors.good}`);
    // Ranked by preference: stale (100), down (99), good (98); nothing but repomd.xml from the stale one.
    const fetched = requestsSince(mark);
    expect(fetched.filter((p) => p.startsWith("/stale/"))).toEqual(["/stale/repodata/repomd.xml"]);
    expect(fetched.filter((p) => p.endsWith(".rpm")).every((p) => p.startsWith("/good/"))).toBe(true);

    const served = await (await fetch(`${stack.repoUrl(repository)}repodata/repomd.xml`)).text();
    expect(served).toBe(readFileSync(join(versions.current, "repodata/repomd.xml"), "utf8"));
    const dnf = makeDnf(stack.repoUrl(repository));
    await dnf.install([versions.addedPackage]);
    expect(await dnf.installed()).toContain(`${versions.addedPackage}-1.0-1.noarch`);
  });

  it("mirrorlist: no hashes, so a first sync takes the first reachable mirror; afterwards a mirror older than what is served is skipped", async () => {
    // A mirrorlist carries no repomd.xml hash: nothing tells a lagging mirror apart before anything
    // is served, so the list's order decides (as with dnf). Once a current generation is served, the
    // stale-mirror refusal (never roll back) skips the lagging one and the sync goes on to the next.
    const repository = "artifacts/yum/m-mirrorlist";
    const created = await create(repository, { mirrorlist: `${upstream.url("lists")}/mirrorlist.txt` });
    expect(created.status, JSON.stringify(created.json)).toBe(200);
    expect((await sync(repository)).status).toBe(200);
    expect((await fetchPrimary(stack.repoUrl(repository))).packages).toHaveLength(2);

    // The current generation, from the good mirror for this sync only (sync:url).
    const once = await stack.call("GET", "/repository/sync:url", {
      repository,
      mirror_url: mirrors.good,
      wait: true,
    });
    expect(once.status, JSON.stringify(once.json)).toBe(200);
    expect((await fetchPrimary(stack.repoUrl(repository))).packages).toHaveLength(3);

    const mark = upstream.server.requests.length;
    const synced = await sync(repository);
    expect(synced.status, JSON.stringify(synced.json)).toBe(200);
    const log = await logs(repository);
    expect(log).toContain(
      `mirror ${mirrors.stale} is stale: upstream repomd.xml revision ${versions.oldRevision} is older than the served ${versions.currentRevision}; skipped`,
    );
    expect(log).toMatch(new RegExp(`mirror ${mirrors.down.replace(/[.]/g, "\\.")} failed \\(.*ECONNREFUSED`));
    expect(requestsSince(mark)).toContain("/good/repodata/repomd.xml");
    expect((await fetchPrimary(stack.repoUrl(repository))).packages).toHaveLength(3);
    const dnf = makeDnf(stack.repoUrl(repository));
    await dnf.install([versions.addedPackage]);
    expect(await dnf.installed()).toContain(`${versions.addedPackage}-1.0-1.noarch`);
  });

  it("fails with METALINK_INVALID's message when the list cannot be read and there is no mirror_urls", async () => {
    const repository = "artifacts/yum/m-metalink-missing";
    await create(repository, { metalink: `${upstream.url("lists")}/nothing.xml` });
    const failed = await sync(repository);
    expect(failed.status).toBe(500);
    expect(failed.json.error.message).toMatch(
      /^synchronization failed: metalink http:\/\/127\.0\.0\.1:\d+\/lists\/nothing\.xml: .*HTTP 404/,
    );
  });

  it("validates the properties: http(s), no $variables left, not both", async () => {
    const bad = async (properties: Record<string, unknown>) => {
      const { status, json } = await create("artifacts/yum/m-bad-list", properties);
      expect(status).toBe(400);
      return json.error.message as string;
    };
    expect(
      await bad({
        metalink: "https://mirrors.fedoraproject.org/metalink?repo=epel-$releasever&arch=$basearch",
      }),
    ).toBe(
      "properties.metalink: the URL still contains the dnf variable $releasever: substitute it (e.g. $releasever → 9, $basearch → x86_64) before setting it",
    );
    // dnf also reads the braced form.
    expect(await bad({ mirrorlist: `http://m.example/list?arch=$\{basearch}` })).toMatch(
      /^properties\.mirrorlist: the URL still contains the dnf variable \$basearch/,
    );
    expect(await bad({ metalink: "ftp://m.example/metalink" })).toBe(
      "properties.metalink: expected an http(s) URL",
    );
    expect(await bad({ metalink: "https://a.example/m", mirrorlist: "https://a.example/l" })).toMatch(
      /metalink and mirrorlist are both set/,
    );
  });
});
