import { createHash } from "node:crypto";
import { cpSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rewriteMetadata } from "./harness/craft-repo.js";
import { fetchPrimary, missingRepodataFiles } from "./harness/repodata-client.js";
import { type Stack, startStack } from "./harness/stack.js";
import { makeTlsMaterial, startTlsUpstream } from "./harness/tls-upstream.js";
import { rockyTestdata, startUpstream, type Upstream } from "./harness/upstream.js";
import { createrepoC } from "./support/createrepo.js";
import { makeDnf } from "./support/dnf.js";
import { freePort } from "./support/processes.js";
import { manyFixtures } from "./support/rpm-fixtures.js";
import { run } from "./support/run.js";
import { cleanupTempDirs, makeTempDir } from "./support/tmp.js";

const rockyKey = join(rockyTestdata, "RPM-GPG-KEY-rockyofficial");
const gpgKey = Buffer.from(readFileSync(rockyKey, "utf8")).toString("base64");

/** Per-path fault injection, set by each test. */
let fault: ((path: string, res: import("node:http").ServerResponse) => boolean) | undefined;

describe("mirror sync", () => {
  let stack: Stack;
  let upstream: Upstream;
  let small: string;

  beforeAll(async () => {
    small = makeTempDir("small-upstream");
    await manyFixtures(join(small, "Packages"), 6, { prefix: "mirrortest-" });
    await createrepoC(small);
    upstream = await startUpstream(
      { rocky: rockyTestdata, small },
      { intercept: (_req, res, path) => fault?.(path, res) ?? false },
    );
    stack = await startStack({ name: "mirror", env: { BESKARYUM_SYNC_TIMEOUT_MS: "1500" } });
  });
  afterAll(async () => {
    if (process.env.BESKARYUM_TEST_SHOW_LOGS) console.log(stack?.workers.map((w) => w.output()).join("\n"));
    await stack?.stop();
    await upstream?.server.close();
    await cleanupTempDirs();
  });

  const createMirror = async (repository: string, urls: string[], key = true) => {
    const properties = { mirror: true, mirror_urls: urls, ...(key ? { gpg_key: gpgKey } : {}) };
    const { status, json } = await stack.call("POST", "/repository", { repository, properties });
    expect(status, JSON.stringify(json)).toBe(200);
  };
  const sync = (repository: string) => stack.call("GET", "/repository/sync", { repository, wait: true });
  const status = async (repository: string) =>
    (await stack.call("GET", "/repository/sync:status", { repository })).json.sync_status;

  it("mirrors Rocky so that dnf with gpgcheck installs from it, with upstream's extra metadata", async () => {
    const repo = "artifacts/yum/m-rocky";
    await createMirror(repo, [upstream.url("rocky")]);
    expect((await sync(repo)).status).toBe(200);
    const dnf = makeDnf(stack.repoUrl(repo), { gpgkey: `file://${rockyKey}` });
    await dnf.install(["booth-debugsource"]);
    expect(await dnf.installed()).toContain("booth-debugsource-1.0-6.ac1d34c.git.el8.2.x86_64");

    const upstreamRepomd = readFileSync(join(rockyTestdata, "repodata/repomd.xml"), "utf8");
    for (const file of readdirSync(join(rockyTestdata, "repodata")).filter((f) => f !== "repomd.xml")) {
      expect(upstreamRepomd).toContain(file);
      const ours = Buffer.from(await (await fetch(`${stack.repoUrl(repo)}repodata/${file}`)).arrayBuffer());
      expect(ours.equals(readFileSync(join(rockyTestdata, "repodata", file))), file).toBe(true);
    }

    // A second sync of an unchanged upstream fetches repomd.xml (and looks for its signature) only.
    const before = upstream.server.requests.length;
    expect((await sync(repo)).status).toBe(200);
    const fetched = upstream.server.requests.slice(before).map((r) => r.path);
    expect(fetched).toEqual(["/rocky/repodata/repomd.xml", "/rocky/repodata/repomd.xml.asc"]);
    expect(await status(repo)).toMatchObject({
      total_packages: 27,
      synced_packages: 27,
      downloaded_packages: 0,
    });
  });

  it("fails over to the second mirror URL when the first refuses connections, and logs it", async () => {
    const repo = "artifacts/yum/m-failover";
    const dead = `http://127.0.0.1:${await freePort()}/rocky`;
    await createMirror(repo, [dead, upstream.url("rocky")]);
    const { status: code, json } = await sync(repo);
    expect(code, JSON.stringify(json)).toBe(200);
    expect(await status(repo)).toMatchObject({ sync_error: "", synced_packages: 27 });
    const logs = (await stack.call("GET", "/repository/logs", { repository: repo })).json.logs;
    expect(logs.map((l: any) => l.message).join("\n")).toMatch(
      new RegExp(
        `mirror ${dead.replace(/[.]/g, "\\.")}/ failed \\(ECONNREFUSED.*\\); using ${upstream.url("rocky")}/`,
      ),
    );
  });

  it("follows upstream exactly when it adds and removes packages", async () => {
    const dir = join(upstream.root, "small");
    const repo = "artifacts/yum/m-changes";
    await createMirror(repo, [upstream.url("small")], false);
    expect((await sync(repo)).status).toBe(200);
    const names = async () => (await fetchPrimary(stack.repoUrl(repo))).packages.map((p) => p.name).sort();
    expect(await names()).toEqual([1, 2, 3, 4, 5, 6].map((i) => `mirrortest-000${i}`));

    for (const f of readdirSync(join(dir, "Packages")).filter((f) => /000[12]/.test(f)))
      rmSync(join(dir, "Packages", f));
    await manyFixtures(join(dir, "Packages"), 2, { prefix: "mirrortest-new-" });
    await createrepoC(dir);
    expect((await sync(repo)).status).toBe(200);
    expect(await names()).toEqual([
      "mirrortest-0003",
      "mirrortest-0004",
      "mirrortest-0005",
      "mirrortest-0006",
      "mirrortest-new-0001",
      "mirrortest-new-0002",
    ]);
    const list = (await stack.call("GET", "/repository/package:list", { repository: repo })).json
      .repository_packages;
    expect(list.map((p: any) => p.name).sort()).toEqual(await names());
    expect(await status(repo)).toMatchObject({
      total_packages: 6,
      synced_packages: 6,
      downloaded_packages: 2,
    });
  });

  it("with sync_policy on_demand, publishes at once and fetches each package on its first request", async () => {
    const repo = "artifacts/yum/m-ondemand";
    const { status: created } = await stack.call("POST", "/repository", {
      repository: repo,
      properties: { mirror: true, mirror_urls: [upstream.url("rocky")], sync_policy: "on_demand" },
    });
    expect(created).toBe(200);
    const before = upstream.server.requests.length;
    expect((await sync(repo)).status).toBe(200);
    expect(upstream.server.requests.slice(before).filter((r) => r.path.endsWith(".rpm"))).toEqual([]);
    expect(await status(repo)).toMatchObject({
      total_packages: 27,
      synced_packages: 27,
      downloaded_packages: 0,
    });

    const file = "booth-debugsource-1.0-6.ac1d34c.git.el8.2.x86_64.rpm";
    const expected = readFileSync(join(rockyTestdata, "Packages", file));
    const head = await fetch(`${stack.repoUrl(repo)}Packages/b/${file}`, { method: "HEAD" });
    expect(Number(head.headers.get("content-length"))).toBe(expected.length);
    const mark = upstream.server.requests.length;
    const requestsForFile = () =>
      upstream.server.requests.slice(mark).filter((r) => r.path.endsWith(`/${file}`));
    const first = Buffer.from(await (await fetch(`${stack.repoUrl(repo)}Packages/b/${file}`)).arrayBuffer());
    expect(first.equals(expected)).toBe(true);
    expect(requestsForFile()).toHaveLength(1);
    // Stored now: the second request is served locally, with byte ranges.
    await new Promise((r) => setTimeout(r, 200));
    const ranged = await fetch(`${stack.repoUrl(repo)}Packages/b/${file}`, {
      headers: { range: "bytes=0-95" },
    });
    expect(ranged.status).toBe(206);
    expect(requestsForFile()).toHaveLength(1);

    // Ten clients at once for one uncached package: one upstream download, shared.
    const other = "pacemaker-cli-debuginfo-2.0.4-6.el8.2.x86_64.rpm";
    const otherBytes = readFileSync(join(rockyTestdata, "Packages", other));
    const bodies = await Promise.all(
      Array.from({ length: 10 }, async () =>
        Buffer.from(await (await fetch(`${stack.repoUrl(repo)}Packages/p/${other}`)).arrayBuffer()),
      ),
    );
    for (const body of bodies) expect(body.equals(otherBytes)).toBe(true);
    expect(upstream.server.requests.slice(mark).filter((r) => r.path.endsWith(`/${other}`))).toHaveLength(1);

    const dnf = makeDnf(stack.repoUrl(repo), { gpgkey: `file://${rockyKey}` });
    await dnf.install(["clufter-debugsource"]);
    expect(await dnf.installed()).toContain("clufter-debugsource-0.77.1-5.el8.x86_64");
  });

  it("syncs from an HTTPS upstream with its own CA that requires a client certificate", async () => {
    const tls = await makeTlsMaterial();
    const server = await startTlsUpstream(join(upstream.root, "small"), tls);
    try {
      const repository = "artifacts/yum/m-tls";
      const base = { mirror: true, mirror_urls: [server.url], tls_ca: tls.ca };
      await stack.call("POST", "/repository", {
        repository,
        properties: { ...base, tls_cert: tls.strangerCert, tls_key: tls.strangerKey },
      });
      const refused = await sync(repository);
      expect(refused.status).toBe(500);
      expect((await status(repository)).sync_error).toMatch(/no mirror could serve repodata\/repomd\.xml/);
      const updated = await stack.call("PUT", "/repository", {
        repository,
        properties: { tls_cert: tls.clientCert, tls_key: tls.clientKey },
      });
      expect(updated.status).toBe(200);
      const good = await sync(repository);
      expect(good.status, JSON.stringify(good.json)).toBe(200);
      expect((await status(repository)).sync_error).toBe("");
      const { properties } = (await stack.call("GET", "/repository", { repository })).json;
      expect(properties.tls_key).toBe("(set)");
      expect(JSON.stringify(properties)).not.toContain("PRIVATE KEY");
      const bad = await stack.call("PUT", "/repository", { repository, properties: { tls_ca: "not pem" } });
      expect(bad.json.error.message).toBe("properties.tls_ca: expected PEM text");
    } finally {
      await server.close();
    }
  });

  it("reads upstream metadata compressed with xz and bzip2", async () => {
    for (const compression of ["xz", "bz2"]) {
      const name = `small-${compression}`;
      const dir = join(upstream.root, name);
      cpSync(join(upstream.root, "small"), dir, { recursive: true });
      rmSync(join(dir, "repodata"), { recursive: true });
      await createrepoC(dir, [`--general-compress-type=${compression}`]);
      const repo = `artifacts/yum/m-${compression}`;
      await createMirror(repo, [upstream.url(name)], false);
      const { status: code, json } = await sync(repo);
      expect(code, JSON.stringify(json)).toBe(200);
      expect((await status(repo)).total_packages).toBe(readdirSync(join(dir, "Packages")).length);
      const repomd = await (await fetch(`${stack.repoUrl(repo)}repodata/repomd.xml`)).text();
      expect(repomd).toContain(`-primary.xml.${compression}`);
    }
  });

  it("is driven by the CLI: create a mirror, sync with --wait, see the status", async () => {
    const cli = fileURLToPath(new URL("../apps/cli/bin/beskar-yum.js", import.meta.url));
    const env = { BESKARYUM_URL: stack.url, BESKARYUM_TOKEN: stack.token };
    const beskarYum = (...args: string[]) => run("node", [cli, ...args], { env, timeoutMs: 60_000 });
    expect(
      (await beskarYum("repo", "create", "m-cli", "--mirror", "--mirror-url", upstream.url("small"))).code,
    ).toBe(0);
    const synced = await beskarYum("sync", "m-cli", "--wait");
    expect(synced.stderr).toBe("");
    expect(synced.stdout).toMatch(
      /^synced artifacts\/yum\/m-cli: \d+\/\d+ packages, \d+ downloaded \([\d.]+ MB\)\n$/,
    );
    expect((await beskarYum("repo", "update", "m-cli", "--sync-schedule", "0 3 * * *")).code).toBe(0);
    expect(
      JSON.parse((await beskarYum("repo", "get", "m-cli", "--json")).stdout).properties.sync_schedule,
    ).toBe("0 3 * * *");
    expect((await beskarYum("repo", "update", "m-cli", "--sync-schedule", "")).code).toBe(0);
    const status = JSON.parse((await beskarYum("status", "m-cli", "--json")).stdout);
    expect(status.sync_status).toMatchObject({ syncing: false, sync_error: "" });
    expect((await beskarYum("repo", "list")).stdout).toMatch(/^artifacts\/yum\/m-cli +mirror +\d+$/m);
    const failed = await beskarYum(
      "sync",
      "m-cli",
      "--url",
      `http://127.0.0.1:${await freePort()}/nothing`,
      "--wait",
    );
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(
      /^beskar-yum: sync failed: no mirror could serve repodata\/repomd\.xml: ECONNREFUSED/,
    );
  });

  it("syncs on its cron schedule, and stops when the schedule is removed", async () => {
    const repository = "artifacts/yum/m-cron";
    await createMirror(repository, [upstream.url("small")], false);
    const updated = await stack.call("PUT", "/repository", {
      repository,
      properties: { sync_schedule: "*/1 * * * * *" },
    });
    expect(updated.status).toBe(200);
    const deadline = Date.now() + 15_000;
    while ((await status(repository)).end_time === "" && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 100));
    expect(await status(repository)).toMatchObject({ sync_error: "", synced_packages: expect.any(Number) });
    expect((await status(repository)).end_time).not.toBe("");

    expect(
      (await stack.call("PUT", "/repository", { repository, properties: { sync_schedule: "" } })).status,
    ).toBe(200);
    await new Promise((r) => setTimeout(r, 1500));
    const settled = (await status(repository)).start_time;
    await new Promise((r) => setTimeout(r, 2500));
    expect((await status(repository)).start_time).toBe(settled);

    const bad = await stack.call("PUT", "/repository", {
      repository,
      properties: { sync_schedule: "every tuesday" },
    });
    expect(bad.status).toBe(400);
    expect(bad.json.error.message).toMatch(
      /^properties\.sync_schedule: invalid cron pattern "every tuesday"/,
    );
  });

  describe("refuses a hostile upstream with a precise error and publishes nothing of it", () => {
    let n = 0;
    /** A fresh copy of the small upstream under a new name, broken by `breakIt`. */
    const hostile = async (breakIt: (dir: string) => void | Promise<void>, message: RegExp) => {
      const name = `hostile-${++n}`;
      const dir = join(upstream.root, name);
      cpSync(join(upstream.root, "small"), dir, { recursive: true });
      const repo = `artifacts/yum/m-${name}`;
      await createMirror(repo, [upstream.url(name)], false);
      // A good sync first: what it published must still be served after the bad one.
      expect((await sync(repo)).status).toBe(200);
      const repomdBefore = await (await fetch(`${stack.repoUrl(repo)}repodata/repomd.xml`)).text();
      await breakIt(dir);
      const { status: code, json } = await sync(repo);
      expect(code).toBe(500);
      expect(json.error.message).toMatch(/^synchronization failed: /);
      expect(json.error.message).toMatch(message);
      const state = await status(repo);
      expect(state.syncing).toBe(false);
      expect(state.sync_error).toMatch(message);
      const logs = (await stack.call("GET", "/repository/logs", { repository: repo })).json.logs;
      expect(logs.at(-1)).toMatchObject({ level: "ERROR" });
      expect(logs.at(-1).message).toMatch(message);
      expect(await (await fetch(`${stack.repoUrl(repo)}repodata/repomd.xml`)).text()).toBe(repomdBefore);
      expect(await missingRepodataFiles(stack.repoUrl(repo))).toEqual([]);
      expect((await fetchPrimary(stack.repoUrl(repo))).packages).toHaveLength(6);
    };

    it("a location href that climbs out with ..", () =>
      hostile(
        (dir) =>
          rewriteMetadata(dir, "primary", (xml) => xml.replace(/href="Packages\//, 'href="../../../etc/')),
        /refusing location href "\.\.\/\.\.\/\.\.\/etc\//,
      ));

    it("an absolute URL as location href", () =>
      hostile(
        (dir) =>
          rewriteMetadata(dir, "primary", (xml) =>
            xml.replace(/href="Packages\//, 'href="http://evil.invalid/'),
          ),
        /refusing location href "http:\/\/evil\.invalid\//,
      ));

    it("an XML entity expansion bomb", () =>
      hostile(
        (dir) =>
          rewriteMetadata(dir, "primary", (xml) =>
            xml
              .replace(
                '<?xml version="1.0" encoding="UTF-8"?>',
                '<?xml version="1.0" encoding="UTF-8"?><!DOCTYPE metadata [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>',
              )
              .replace("<name>", "<name>&b;"),
          ),
        /primary\.xml: line \d+: DOCTYPE declarations are not accepted/,
      ));

    it("a gzip bomb", () =>
      hostile(
        (dir) =>
          rewriteMetadata(dir, "primary", (xml) => xml, {
            compressed: (open) => gzipSync(Buffer.concat([open, Buffer.alloc(64 * 1024 * 1024, 32)])),
          }),
        /primary\.xml\.gz: decompresses to more than \d+ bytes \(its declared open-size\)/,
      ));

    it("a server that sends more bytes than declared", () =>
      hostile(async (dir) => {
        // A package we have not stored yet, so that it is really downloaded.
        const [rpm] = await manyFixtures(join(dir, "Packages"), 1, { prefix: "mirrortest-big-" });
        await createrepoC(dir);
        const body = Buffer.concat([readFileSync(rpm!), Buffer.alloc(4096)]);
        fault = (path, res) => {
          if (!path.endsWith(basename(rpm!))) return false;
          res.writeHead(200, { "content-type": "application/x-rpm" });
          res.end(body);
          return true;
        };
      }, /upstream sent more than declared \d+ bytes/).finally(() => {
        fault = undefined;
      }));

    it("a server that stalls", () =>
      hostile(() => {
        fault = (path, res) => {
          if (!path.endsWith("repomd.xml")) return false;
          res.writeHead(200, { "content-type": "text/xml" });
          res.write("<?xml");
          return true; // never ends: the body times out
        };
      }, /repodata\/repomd\.xml: .*(timeout|Timeout)/).finally(() => {
        fault = undefined;
      }));

    it("a repomd.xml that lists a file that is not there", () =>
      hostile((dir) => {
        rewriteMetadata(dir, "other", (xml) => xml);
        const other = readdirSync(join(dir, "repodata")).find((f) => f.endsWith("-other.xml.gz"))!;
        rmSync(join(dir, "repodata", other));
      }, /no mirror could serve repodata\/[0-9a-f]{64}-other\.xml\.gz: .*HTTP 404/));

    it("a package whose bytes do not match upstream's checksum", () =>
      hostile(async (dir) => {
        // A package we have not stored yet, listed with a wrong checksum.
        await manyFixtures(join(dir, "Packages"), 1, { prefix: "mirrortest-sum-" });
        await createrepoC(dir);
        rewriteMetadata(dir, "primary", (xml) =>
          xml.replace(
            /(<name>mirrortest-sum-0001<\/name>[\s\S]*?<checksum type="sha256" pkgid="YES">)[0-9a-f]{8}/,
            "$1deadbeef",
          ),
        );
      }, /sha256 is [0-9a-f]{64}, upstream metadata says deadbeef/));

    it("a package whose bytes match upstream's checksum but are no RPM", () =>
      hostile(async (dir) => {
        // Verified by checksum, then refused by the parser (on the package thread): nothing is recorded.
        const [rpm] = await manyFixtures(join(dir, "Packages"), 1, { prefix: "mirrortest-junk-" });
        await createrepoC(dir);
        const junk = Buffer.alloc(readFileSync(rpm!).length, "junk");
        writeFileSync(rpm!, junk);
        const sha256 = createHash("sha256").update(junk).digest("hex");
        rewriteMetadata(dir, "primary", (xml) =>
          xml.replace(
            /(<name>mirrortest-junk-0001<\/name>[\s\S]*?<checksum type="sha256" pkgid="YES">)[0-9a-f]{64}/,
            `$1${sha256}`,
          ),
        );
      }, /mirrortest-junk-0001[^ ]*\.rpm: not an RPM: lead magic/));
  });
});
