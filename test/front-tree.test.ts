import { createHash } from "node:crypto";
import { lstatSync, readdirSync, readFileSync, readlinkSync } from "node:fs";
import { request } from "node:http";
import { join, relative } from "node:path";
import { parseRepomd } from "@beskar-yum/repodata";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fetchPrimary } from "./harness/repodata-client.js";
import { type Stack, startStack } from "./harness/stack.js";
import { rockyTestdata, startUpstream } from "./harness/upstream.js";
import { makeDnf } from "./support/dnf.js";
import { type Nginx, shippedSite, startNginx } from "./support/nginx.js";
import { buildRpms, standardFixtures } from "./support/rpm-fixtures.js";
import { cleanupTempDirs, makeTempDir } from "./support/tmp.js";

interface Answer {
  status: number;
  body: Buffer;
  headers: Record<string, string | string[] | undefined>;
}

/** A GET (or HEAD) with the path sent as written: fetch() would resolve `..` and `%2e` itself. */
function raw(
  base: string,
  path: string,
  headers: Record<string, string> = {},
  method = "GET",
): Promise<Answer> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request({ hostname, port, path, method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () =>
        resolve({ status: res.statusCode!, body: Buffer.concat(chunks), headers: res.headers }),
      );
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end();
  });
}

const sha256 = (body: Buffer) => createHash("sha256").update(body).digest("hex");
/** nginx's own ETag (`"<mtime>-<size>"` in hex): nginx sent the file from the tree, not the API (its sha256). */
const sentByNginx = (answer: Answer) => /^"[0-9a-f]+-[0-9a-f]+"$/.test(String(answer.headers.etag));

async function until(what: string, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * beskar-yum behind Debian's nginx with deploy/nginx/beskar-yum.conf as shipped (only addresses and
 * paths replaced) and `http.front_tree` on: nginx sends packages, repodata and repomd.xml from the
 * tree without asking the API, and every answer is the one the API gives for that URL, before and
 * after publishes that replace, delete, and across nested repository names.
 */
describe("behind nginx with the front tree (http.front_tree)", () => {
  let stack: Stack;
  let nginx: Nginx;
  let tree: string;
  const front = (path: string, headers?: Record<string, string>, method?: string) =>
    raw(nginx.url, path, headers, method);
  const direct = (path: string, headers?: Record<string, string>, method?: string) =>
    raw(stack.url, path, headers, method);
  /** The front's answer for `path` is the API's: same status, same bytes. */
  const sameAsApi = async (path: string) => {
    const [viaFront, viaApi] = await Promise.all([front(path), direct(path)]);
    expect({ path, status: viaFront.status }).toEqual({ path, status: viaApi.status });
    if (viaApi.status === 200) expect(sha256(viaFront.body), path).toBe(sha256(viaApi.body));
    return viaFront;
  };
  const upload = async (repository: string, rpm: string) => {
    const response = await fetch(
      `${nginx.url}${repository}/repo/Packages/${rpm.split("/").pop()}?wait=true`,
      {
        method: "PUT",
        headers: { authorization: `Bearer ${stack.token}`, "content-type": "application/x-rpm" },
        body: readFileSync(rpm),
      },
    );
    expect(response.status, await response.text()).toBe(201);
  };
  const create = async (repository: string) =>
    expect((await stack.call("POST", "/repository", { repository, properties: {} })).status).toBe(200);

  beforeAll(async () => {
    tree = makeTempDir("front-tree");
    stack = await startStack({ name: "front-tree", env: { BESKARYUM_HTTP_FRONT_TREE: tree } });
    nginx = await startNginx({
      site: shippedSite({ apiHost: new URL(stack.url).host, dataDir: stack.dataDir, frontTree: tree }),
    });
  }, 60_000);
  afterAll(async () => {
    await nginx?.stop();
    await stack?.stop();
    await cleanupTempDirs();
  });

  it("serves dnf from the tree: packages, repodata and repomd.xml, as the API would; direct clients unchanged", async () => {
    const repo = "artifacts/yum/front";
    await create(repo);
    for (const rpm of (await standardFixtures(makeTempDir("fixtures"))).all) await upload(repo, rpm);
    const dnf = makeDnf(`${nginx.url}${repo}/repo/`);
    expect((await dnf.install(["yumtest-app"])).stdout).toMatch(/yumtest-lib/);

    const primary = await fetchPrimary(`${nginx.url}${repo}/repo/`);
    const repomd = `/${repo}/repo/repodata/repomd.xml`;
    const dataFiles = parseRepomd((await front(repomd)).body.toString("utf8")).records.map(
      (r) => `/${repo}/repo/${r.location}`,
    );
    const packages = primary.packages.map((p) => `/${repo}/repo/${p.href}`);
    const paths = [repomd, `${repomd}.asc`, ...dataFiles, ...packages];
    for (const path of paths) {
      const viaFront = await sameAsApi(path);
      expect(viaFront.status, path).toBe(200);
      expect(sentByNginx(viaFront), path).toBe(true);
      const viaApi = await direct(path);
      expect(sentByNginx(viaApi), path).toBe(false);
      for (const header of ["content-type", "cache-control"])
        expect(viaFront.headers[header], `${path} ${header}`).toBe(viaApi.headers[header]);
      const head = await front(path, {}, "HEAD");
      expect(head.headers["content-length"], path).toBe(String(viaApi.body.length));
    }
    const lib = primary.packages.find((p) => p.name === "yumtest-lib")!;
    const whole = await direct(`/${repo}/repo/${lib.href}`);
    const ranged = await front(`/${repo}/repo/${lib.href}`, { range: "bytes=10-99" });
    expect(ranged.status).toBe(206);
    expect(ranged.body.equals(whole.body.subarray(10, 100))).toBe(true);
    // Direct clients keep the API's answers (its ETag: the sha256).
    expect(whole.headers.etag).toBe(`"${lib.pkgid}"`);
    // Uploads, the admin API and URLs the tree has no entry for go to the API through the front.
    expect((await front(`/${repo}/repo/Packages/${lib.href.split("/").pop()}`)).status).toBe(200);
    expect((await front(`/${repo}/repo/Packages/nothing-1-1.noarch.rpm`)).status).toBe(404);
  });

  it("sends a replaced package's new bytes right after the publish, and leaves deleted ones to the API", async () => {
    const repo = "artifacts/yum/front-swap";
    await create(repo);
    const spec = { name: "yumtest-swap", arch: "noarch" as const };
    const [first] = await buildRpms([{ ...spec, description: "first build" }], makeTempDir("swap-a"));
    const [second] = await buildRpms([{ ...spec, description: "second build" }], makeTempDir("swap-b"));
    await upload(repo, first!);
    const before = (await fetchPrimary(`${nginx.url}${repo}/repo/`)).packages[0]!;
    const path = `/${repo}/repo/${before.href}`;
    expect(sha256((await front(path)).body)).toBe(before.pkgid);

    await upload(repo, second!);
    // Right after the publish that switched primary.xml: the new bytes at the same href.
    const after = (await fetchPrimary(`${nginx.url}${repo}/repo/`)).packages[0]!;
    expect(after.href).toBe(before.href);
    expect(after.pkgid).not.toBe(before.pkgid);
    const swapped = await sameAsApi(path);
    expect(sha256(swapped.body)).toBe(after.pkgid);
    // The answer came as the publish committed: from the API while the tree's entry was being
    // rewritten (never the old bytes), then from nginx.
    await until("nginx sending the new bytes", async () => sentByNginx(await front(path, {}, "HEAD")));
    expect(sha256((await front(path)).body)).toBe(after.pkgid);

    const removed = await stack.call("DELETE", "/repository/package", { repository: repo, id: after.pkgid });
    expect(removed.status).toBe(200);
    await until(
      "the deletion's publish",
      async () => (await fetchPrimary(stack.repoUrl(repo))).packages.length === 0,
    );
    // The API still serves it for the grace period (clients of the previous repodata): so does the
    // front, by asking the API (its ETag), the tree no longer has it.
    const retired = await sameAsApi(path);
    expect(retired.status).toBe(200);
    expect(sentByNginx(retired)).toBe(false);

    // A deleted repository: nothing of it through the front, nothing of it left in the tree.
    const repomd = `/${repo}/repo/repodata/repomd.xml`;
    expect((await front(repomd)).status).toBe(200);
    const deleted = await stack.call("DELETE", "/repository", { repository: repo, delete_packages: true });
    expect(deleted.status).toBe(200);
    expect((await sameAsApi(repomd)).status).toBe(404);
    expect((await sameAsApi(path)).status).toBe(404);
    expect(entries(join(tree, repo))).toEqual([]);
  });

  it("leaves an on_demand mirror's packages to the API until fetched, then sends them itself", async () => {
    const upstream = await startUpstream({ rocky: rockyTestdata });
    try {
      const repo = "artifacts/yum/front-mirror";
      const properties = { mirror: true, mirror_urls: [upstream.url("rocky")], sync_policy: "on_demand" };
      expect((await stack.call("POST", "/repository", { repository: repo, properties })).status).toBe(200);
      expect((await stack.call("GET", "/repository/sync", { repository: repo, wait: true })).status).toBe(
        200,
      );
      const repomd = `/${repo}/repo/repodata/repomd.xml`;
      const synced = await sameAsApi(repomd);
      expect(synced.status).toBe(200);
      expect(sentByNginx(synced)).toBe(true);
      const file = "booth-debugsource-1.0-6.ac1d34c.git.el8.2.x86_64.rpm";
      const expected = readFileSync(join(rockyTestdata, "Packages", file));
      const path = `/${repo}/repo/Packages/${file}`;
      // Not stored yet: its entry points at nothing, nginx asks the API, which fetches it from upstream.
      const first = await front(path);
      expect(first.body.equals(expected)).toBe(true);
      expect(sentByNginx(first)).toBe(false);
      await until("the fetched package in the tree", async () => sentByNginx(await front(path, {}, "HEAD")));
      expect((await front(path)).body.equals(expected)).toBe(true);
    } finally {
      await upstream.server.close();
    }
  });

  it("keeps nested and hostile names to their own files, and nothing but served files in the tree", async () => {
    const names = ["artifacts/yum/outer", "artifacts/yum/outer/repodata", "artifacts/yum/outer/repo/inner"];
    const rpms = await buildRpms(
      names.map((_, i) => ({ name: `yumtest-nest${i}`, arch: "noarch" as const })),
      makeTempDir("nested"),
    );
    for (const [i, name] of names.entries()) {
      await create(name);
      await upload(name, rpms[i]!);
    }
    const hrefs = await Promise.all(
      names.map(async (name) => (await fetchPrimary(stack.repoUrl(name))).packages[0]!.href),
    );
    const [outer, , inner] = names.map((n) => `/${n}/repo/`);
    const candidates = [
      ...names.flatMap((name, i) => [`/${name}/repo/repodata/repomd.xml`, `/${name}/repo/${hrefs[i]}`]),
      // Each repository's files under the others' URLs, through dot segments, escapes and doubled slashes.
      ...hrefs.flatMap((href) => [`${outer}${href}`, `${inner}${href}`, `${outer}inner/repo/${href}`]),
      `${outer}../repo/inner/repo/repodata/repomd.xml`,
      `${inner}../../repodata/repomd.xml`,
      `${outer}%2e%2e/repodata/repomd.xml`,
      `${outer}inner%2frepo/repodata/repomd.xml`,
      `${outer}/repodata/repomd.xml`,
      `${outer}./repodata/repomd.xml`,
      `${outer}repodata/repomd.xml?x=1`,
      // What must never be served: the indexes (mirror secrets) beside the repositories' files.
      "/artifacts/yum/outer/index.db",
      "/artifacts/yum/outer/repo/../index.db",
      `${outer}repodata/../../index.db`,
      "/artifacts/yum/outer+repodata/index.db",
    ];
    for (const path of candidates) {
      const [viaFront, viaApi] = await Promise.all([front(path), direct(path)]);
      // nginx refuses some of these itself (400): never with another file's bytes.
      if (viaFront.status === 400) continue;
      expect({ path, status: viaFront.status }).toEqual({ path, status: viaApi.status });
      if (viaApi.status === 200) expect(sha256(viaFront.body), path).toBe(sha256(viaApi.body));
    }
    // Each repository's package is sent by nginx at its own URL.
    for (const [i, name] of names.entries())
      expect(sentByNginx(await front(`/${name}/repo/${hrefs[i]}`)), name).toBe(true);

    // The tree holds symlinks to stored packages and data files, and repomd.xml copies: nothing else.
    const all = entries(tree);
    expect(all.length).toBeGreaterThan(0);
    for (const entry of all) {
      const path = join(tree, entry);
      if (lstatSync(path).isSymbolicLink()) {
        expect(relative(stack.dataDir, readlinkSync(path)), entry).toMatch(
          /^artifacts\/yum\/[^/]+\/(blobs\/sha256\/[0-9a-f]{2}\/[0-9a-f]{64}|repodata\/[0-9a-f]{64}-[a-z_]+\.[a-z.]+)$/,
        );
      } else {
        expect(entry).toMatch(/\/repo\/repodata\/repomd\.xml(\.asc)?$/);
      }
    }
  });
});

/** Files and symlinks under `dir`, relative to it. */
function entries(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names.flatMap((name) => {
    const path = join(dir, name);
    return lstatSync(path).isDirectory() ? entries(path).map((e) => `${name}/${e}`) : [name];
  });
}
