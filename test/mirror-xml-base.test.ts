import { cpSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { parseRepomd, renderRepomd } from "@beskar-yum/repodata";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rewriteMetadata } from "./harness/craft-repo.js";
import { fetchPrimary } from "./harness/repodata-client.js";
import { type Stack, startStack } from "./harness/stack.js";
import { rockyTestdata, startUpstream, type Upstream } from "./harness/upstream.js";
import { dnfWithRepoFile, makeDnf } from "./support/dnf.js";
import { describeFailure } from "./support/run.js";
import { cleanupTempDirs, makeTempDir } from "./support/tmp.js";

const rockyKey = join(rockyTestdata, "RPM-GPG-KEY-rockyofficial");
const rockyKeyText = readFileSync(rockyKey, "utf8");
const gpgKey = Buffer.from(rockyKeyText).toString("base64");
const rpms = readdirSync(join(rockyTestdata, "Packages")).filter((f) => f.endsWith(".rpm"));

/**
 * Rocky's repository rewritten as Koji/Pulp-published trees are: every other package of primary.xml
 * lives under `<location xml:base="<cdn>/tree/">` (and only there: moved to the second server), and
 * repomd.xml lists other.xml.gz under an `xml:base` on the second server too.
 */
function splitTree(dir: string, cdnRoot: string, cdnBase: string): string[] {
  const moved: string[] = [];
  let n = 0;
  rewriteMetadata(dir, "primary", (xml) =>
    xml.replace(/<location href="Packages\/([^"]+)"\/>/g, (tag, file: string) => {
      if (n++ % 2 !== 0) return tag;
      moved.push(file);
      return `<location xml:base="${cdnBase}" href="Packages/${file}"/>`;
    }),
  );
  mkdirSync(join(cdnRoot, "tree", "Packages"), { recursive: true });
  mkdirSync(join(cdnRoot, "tree", "repodata"), { recursive: true });
  for (const file of moved) renameSync(join(dir, "Packages", file), join(cdnRoot, "tree", "Packages", file));
  const repomdPath = join(dir, "repodata", "repomd.xml");
  const repomd = parseRepomd(readFileSync(repomdPath, "utf8"));
  const other = repomd.records.find((r) => r.type === "other")!;
  renameSync(join(dir, other.location), join(cdnRoot, "tree", other.location));
  other.locationBase = cdnBase;
  writeFileSync(repomdPath, renderRepomd({ revision: repomd.revision ?? 1, records: repomd.records }));
  return moved;
}

describe("mirror of an upstream whose packages live under xml:base", () => {
  let stack: Stack;
  let upstream: Upstream;
  let cdn: Upstream;
  let moved: string[];
  const repo = "artifacts/yum/m-xml-base";

  beforeAll(async () => {
    cdn = await startUpstream({});
    const dir = makeTempDir("xml-base-upstream");
    cpSync(rockyTestdata, dir, { recursive: true });
    moved = splitTree(dir, cdn.root, `${cdn.server.url}tree/`);
    upstream = await startUpstream({ split: dir });
    stack = await startStack({ name: "xml-base" });
  });
  afterAll(async () => {
    if (process.env.BESKARYUM_TEST_SHOW_LOGS) console.log(stack?.workers.map((w) => w.output()).join("\n"));
    await stack?.stop();
    await upstream?.server.close();
    await cdn?.server.close();
    await cleanupTempDirs();
  });

  const sync = () => stack.call("GET", "/repository/sync", { repository: repo, wait: true });
  const syncFinished = () =>
    stack.workers
      .flatMap((w) => w.output().split("\n"))
      .filter((l) => l.includes('"msg":"mirror sync finished"'))
      .map((l) => JSON.parse(l) as { published: boolean; downloaded: number; total: number });

  it("downloads from the base URL without the mirror's credentials, serves every package and metadata without xml:base", async () => {
    expect(moved).toHaveLength(14);
    // The mirror URL carries credentials (test:test-password@): they must stay with its own origin.
    const created = await stack.call("POST", "/repository", {
      repository: repo,
      properties: { mirror: true, mirror_urls: [upstream.authUrl("split")], gpg_key: gpgKey },
    });
    expect(created.status, JSON.stringify(created.json)).toBe(200);
    const { status, json } = await sync();
    expect(status, JSON.stringify(json)).toBe(200);
    const state = (await stack.call("GET", "/repository/sync:status", { repository: repo })).json.sync_status;
    expect(state).toMatchObject({ sync_error: "", total_packages: 27, synced_packages: 27 });

    // Every moved package (and other.xml.gz) came from the second server, which never saw credentials.
    const fromCdn = cdn.server.requests.map((r) => r.path);
    for (const file of moved) expect(fromCdn).toContain(`/tree/Packages/${file}`);
    expect(fromCdn.some((p) => p.endsWith("-other.xml.gz"))).toBe(true);
    expect(cdn.server.requests.filter((r) => r.headers.authorization !== undefined)).toEqual([]);
    expect(upstream.server.requests.some((r) => r.headers.authorization?.startsWith("Basic "))).toBe(true);

    for (const file of rpms) {
      const served = Buffer.from(await (await fetch(`${stack.repoUrl(repo)}Packages/${file}`)).arrayBuffer());
      expect(served.equals(readFileSync(join(rockyTestdata, "Packages", file))), file).toBe(true);
    }

    const repomdText = await (await fetch(`${stack.repoUrl(repo)}repodata/repomd.xml`)).text();
    expect(repomdText).not.toContain("xml:base");
    expect(parseRepomd(repomdText).records.map((r) => r.type)).toEqual(["primary", "filelists", "other"]);
    const primary = parseRepomd(repomdText).records[0]!;
    expect(primary.location).toBe(`repodata/${primary.checksum.value}-primary.xml.gz`);
    const primaryXml = gunzipSync(
      Buffer.from(await (await fetch(`${stack.repoUrl(repo)}${primary.location}`)).arrayBuffer()),
    ).toString("utf8");
    expect(primaryXml).not.toContain("xml:base");
    // Byte for byte upstream's original primary.xml (before the bases were put in).
    const original = readdirSync(join(rockyTestdata, "repodata")).find((f) => f.endsWith("-primary.xml.gz"))!;
    expect(primaryXml).toBe(
      gunzipSync(readFileSync(join(rockyTestdata, "repodata", original))).toString("utf8"),
    );
    expect((await fetchPrimary(stack.repoUrl(repo))).packages).toHaveLength(27);
    // repomd.xml is ours: signed with the server's key, not upstream's (whose signature no longer applies).
    const asc = await fetch(`${stack.repoUrl(repo)}repodata/repomd.xml.asc`);
    expect(asc.status).toBe(200);
    const key = await (await fetch(`${stack.repoUrl(repo)}repodata/repomd.xml.key`)).text();
    expect(key).toMatch(/^-----BEGIN PGP PUBLIC KEY BLOCK-----/);
    expect(key).not.toBe(rockyKeyText);

    const logs = (await stack.call("GET", "/repository/logs", { repository: repo })).json.logs;
    const messages = logs.map((l: { message: string }) => l.message).join("\n");
    expect(messages).toContain(
      "primary.xml rewritten (xml:base): upstream's repomd.xml signature no longer applies; repomd.xml is signed with the server's key",
    );
    expect(messages).toContain("14 of 27 packages are listed under xml:base upstream");
    expect(messages).toMatch(/not served: primary_db, filelists_db, other_db/);
  });

  it("lets dnf with gpgcheck install a package that came from the base URL", async () => {
    const file = moved.find((f) => f.startsWith("booth-core-debuginfo"))!;
    expect(file).toBeDefined();
    const dnf = makeDnf(stack.repoUrl(repo), { gpgkey: `file://${rockyKey}` });
    await dnf.install(["booth-core-debuginfo"]);
    expect(await dnf.installed()).toContain(file.replace(/\.rpm$/, ""));
  });

  it("serves a .repo file with which dnf checks our signature of the rewritten repomd.xml and upstream's of the packages", async () => {
    const repoFile = await (await fetch(`${stack.url}/${repo}/m-xml-base.repo`)).text();
    expect(repoFile).toMatch(/^gpgcheck=1$/m);
    expect(repoFile).toMatch(/^repo_gpgcheck=1$/m);
    expect(repoFile).toMatch(/^gpgkey=\S+\/RPM-GPG-KEY \S+\/repo\/repodata\/repomd\.xml\.key$/m);
    const installed = await dnfWithRepoFile(repoFile, ["install", "booth-core-debuginfo"]);
    expect(installed.code, describeFailure("dnf install", installed)).toBe(0);
  });

  it("refuses a base that is not http(s), naming it, and serves nothing from that upstream", async () => {
    const dir = join(upstream.root, "hostile");
    cpSync(rockyTestdata, dir, { recursive: true });
    rewriteMetadata(dir, "primary", (xml) =>
      xml.replace(
        '<location href="Packages/booth-',
        '<location xml:base="file:///etc/" href="Packages/booth-',
      ),
    );
    const hostile = "artifacts/yum/m-xml-base-hostile";
    const properties = { mirror: true, mirror_urls: [upstream.url("hostile")], gpg_key: gpgKey };
    expect((await stack.call("POST", "/repository", { repository: hostile, properties })).status).toBe(200);
    const cdnRequests = cdn.server.requests.length;
    const requests = upstream.server.requests.length;
    await stack.call("GET", "/repository/sync", { repository: hostile, wait: true });
    const state = (await stack.call("GET", "/repository/sync:status", { repository: hostile })).json
      .sync_status;
    expect(state.sync_error).toMatch(
      /primary\.xml \(booth-core-debuginfo\): refusing xml:base "file:\/\/\/etc\/": it is not http\(s\)/,
    );
    expect(upstream.server.requests.slice(requests).filter((r) => r.path.endsWith(".rpm"))).toEqual([]);
    expect(cdn.server.requests.length).toBe(cdnRequests);
    expect((await fetchPrimary(stack.repoUrl(hostile))).packages).toEqual([]);
  });

  it("republishes nothing on a second sync of the unchanged upstream", async () => {
    const before = await fetch(`${stack.repoUrl(repo)}repodata/repomd.xml`);
    const cdnRequests = cdn.server.requests.length;
    expect((await sync()).status).toBe(200);
    const after = await fetch(`${stack.repoUrl(repo)}repodata/repomd.xml`);
    expect(await after.text()).toBe(await before.text());
    expect(after.headers.get("last-modified")).toBe(before.headers.get("last-modified"));
    expect(syncFinished().at(-1)).toMatchObject({ published: false, downloaded: 0, total: 27 });
    expect(cdn.server.requests.length).toBe(cdnRequests);
  });
});
