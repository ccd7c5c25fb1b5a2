import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { RepositoryStorage } from "@beskar-yum/storage";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { createTestDatabase } from "../packages/storage/src/test-support/postgres-test-db.js";
import { fetchPrimary, missingRepodataFiles } from "./harness/repodata-client.js";
import { type Stack, startStack } from "./harness/stack.js";
import { rockyTestdata, startUpstream, type Upstream } from "./harness/upstream.js";
import { makeDnf } from "./support/dnf.js";
import { type DockerRegistry, dockerRegistry } from "./support/docker-registry.js";
import { eventually } from "./support/eventually.js";
import { deletePrefix, uniquePrefix } from "./support/redis.js";
import { standardFixtures } from "./support/rpm-fixtures.js";
import { cleanupTempDirs, makeTempDir } from "./support/tmp.js";

const rockyFiles = (
  parse(readFileSync(join(rockyTestdata, "repoconfig.yaml"), "utf8"))["vault-rocky-8.3-ha-debug"] as {
    files: Record<string, { sha256: string }>;
  }
).files;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Bytes of every file under `dir` (what a node's cache holds), 0 when it does not exist. */
function bytesUnder(dir: string): number {
  if (!existsSync(dir)) return 0;
  let total = 0;
  for (const entry of readdirSync(dir, { recursive: true, encoding: "utf8" }).map((e) => join(dir, e))) {
    const info = statSync(entry);
    if (info.isFile()) total += info.size;
  }
  return total;
}

/**
 * Two nodes of one deployment with `storage.driver: registry`: API-1 + worker-1 on datadir A,
 * API-2 + worker-2 on datadir B (no shared disk), sharing one PostgreSQL database, one
 * docker-registry and one Redis prefix. Every process is the real built one.
 */
describe("two nodes: storage.driver registry, index.driver postgres", () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let registry: DockerRegistry;
  let upstream: Upstream;
  let one: Stack;
  let two: Stack;
  const prefix = uniquePrefix("two-nodes");
  const hosted = "artifacts/yum/two-nodes-hosted";
  const mirror = "artifacts/yum/two-nodes-mirror";
  let rpms: Awaited<ReturnType<typeof standardFixtures>>;
  let env: Record<string, string>;

  beforeAll(async () => {
    database = await createTestDatabase();
    registry = await dockerRegistry();
    await registry.start();
    // Slow package downloads so that the sync is surely in flight when worker-1 dies.
    upstream = await startUpstream(
      { rocky: rockyTestdata },
      {
        intercept: async (_req, _res, path) => (path.endsWith(".rpm") ? sleep(150).then(() => false) : false),
      },
    );
    rpms = await standardFixtures(makeTempDir("two-nodes-rpms"));
    env = {
      BESKARYUM_STORAGE_DRIVER: "registry",
      BESKARYUM_REGISTRY_URL: registry.url,
      BESKARYUM_INDEX_DRIVER: "postgres",
      BESKARYUM_INDEX_POSTGRES_URL: database.url,
      BESKARYUM_SYNC_CONCURRENCY: "2",
      BESKARYUM_WORKER_LOCK_TTL_MS: "2000",
      BESKARYUM_WORKER_RECONCILE_INTERVAL_MS: "500",
    };
    one = await startStack({ name: "two-nodes-1", prefix, env });
    // Node 2's worker starts once worker-1 is killed: until then every job is worker-1's.
    two = await startStack({ name: "two-nodes-2", prefix, env, workers: 0 });
  });
  afterAll(async () => {
    await one?.stop();
    await two?.stop();
    await deletePrefix(prefix);
    await upstream?.server.close();
    await registry?.stop();
    await database?.drop();
    await cleanupTempDirs();
  });

  it("installs with dnf through API-2 what was uploaded through API-1", async () => {
    expect((await one.call("POST", "/repository", { repository: hosted, properties: {} })).status).toBe(200);
    for (const rpm of [rpms.lib, rpms.app]) {
      const { status, json } = await one.upload(hosted, rpm, { wait: true });
      expect(status, JSON.stringify(json)).toBe(201);
    }
    const cacheB = new RepositoryStorage(two.dataDir).paths(hosted).root;
    expect(existsSync(cacheB)).toBe(false); // node 2 has nothing of it on disk
    const started = Date.now();
    const installed = await makeDnf(two.repoUrl(hosted)).install(["yumtest-app"]);
    expect(installed.stdout).toMatch(/yumtest-lib/);
    // Everything node 2 served came from the registry into its cache: the measure of a cold node.
    const metrics = await (await fetch(`${two.url}/metrics`)).text();
    const fetched = Number(/^beskaryum_registry_fetched_bytes_total (\d+)$/m.exec(metrics)?.[1]);
    // At least the two packages dnf downloaded (and the repodata it read).
    expect(fetched).toBeGreaterThan(statSync(rpms.lib).size + statSync(rpms.app).size);
    console.log(
      `two-nodes: dnf install through cold API-2 in ${Date.now() - started} ms; API-2 fetched ${fetched} bytes from the registry (${/^beskaryum_registry_fetched_blobs_total (\d+)$/m.exec(metrics)?.[1]} blobs)`,
    );

    // The registry is the store: while it is down an upload is refused, and nothing is recorded.
    await registry.stop();
    const refused = await one.upload(hosted, rpms.extra);
    expect(refused.status, JSON.stringify(refused.json)).toBe(503);
    const notCreated = await two.call("POST", "/repository", {
      repository: "artifacts/yum/two-nodes-down",
      properties: {},
    });
    expect(notCreated.status, JSON.stringify(notCreated.json)).toBe(503);
    expect(
      (await two.call("GET", "/repository", { repository: "artifacts/yum/two-nodes-down" })).status,
    ).toBe(404);
    await registry.start();
    const accepted = await one.upload(hosted, rpms.extra, { wait: true });
    expect(accepted.status, JSON.stringify(accepted.json)).toBe(201);
    const logs = await two.call("GET", "/repository/logs", { repository: hosted });
    const uploads = logs.json.logs.filter((l: { message: string }) =>
      l.message.startsWith("uploaded yumtest-extra"),
    );
    expect(uploads).toHaveLength(1);
  });

  it("finishes on worker-2 a mirror sync killed with SIGKILL on worker-1, without downloading again what was stored", async () => {
    const created = await one.call("POST", "/repository", {
      repository: mirror,
      properties: { mirror: true, mirror_urls: [upstream.url("rocky")] },
    });
    expect(created.status).toBe(200);
    expect((await one.call("GET", "/repository/sync", { repository: mirror })).status).toBe(200);
    const status = async () =>
      (await two.call("GET", "/repository/sync:status", { repository: mirror })).json.sync_status;
    const deadline = Date.now() + 30_000;
    while ((await status()).synced_packages < 6 && Date.now() < deadline) await sleep(20);

    await one.workers[0]!.kill9();
    one.workers.splice(0);
    const killedAt = upstream.server.requests.length;
    // Stored = in the registry: what the shared index may name, whichever node stored it.
    const storedRpms: string[] = [];
    for (const [name, file] of Object.entries(rockyFiles)) {
      const head = await fetch(`${registry.url}/v2/${mirror}/packages/blobs/sha256:${file.sha256}`, {
        method: "HEAD",
      });
      if (head.status === 200) storedRpms.push(name);
    }
    expect(storedRpms.length).toBeGreaterThanOrEqual(6);
    expect(storedRpms.length).toBeLessThan(27);
    expect((await status()).syncing).toBe(true);

    const resumed = Date.now();
    await two.startWorker();
    const end = Date.now() + 60_000;
    while ((await status()).syncing && Date.now() < end) await sleep(100);
    expect(await status()).toMatchObject({
      syncing: false,
      sync_error: "",
      total_packages: 27,
      synced_packages: 27,
    });
    console.log(
      `two-nodes: sync resumed and finished on worker-2 in ${Date.now() - resumed} ms (${storedRpms.length} of 27 packages stored before the kill)`,
    );
    const refetched = upstream.server.requests
      .slice(killedAt)
      .filter((r) => storedRpms.some((name) => r.path.endsWith(`/${name}`)));
    expect(refetched).toEqual([]);
    const logs = await two.call("GET", "/repository/logs", { repository: mirror });
    expect(logs.json.logs.map((l: { message: string }) => l.message)).toContainEqual(
      expect.stringMatching(new RegExp(`${storedRpms.length} taken from the registry`)),
    );

    // API-1, on datadir A, serves the packages worker-2 downloaded on datadir B, byte for byte.
    expect((await fetchPrimary(one.repoUrl(mirror))).packages).toHaveLength(27);
    expect(await missingRepodataFiles(one.repoUrl(mirror))).toEqual([]);
    for (const [name, file] of Object.entries(rockyFiles)) {
      const res = await fetch(`${one.repoUrl(mirror)}Packages/${name}`);
      expect(res.status, name).toBe(200);
      const digest = createHash("sha256")
        .update(Buffer.from(await res.arrayBuffer()))
        .digest("hex");
      expect(digest, name).toBe(file.sha256);
    }
  });

  it("loses nothing when the deployment's Redis keys are flushed", async () => {
    // Every process goes, and with them every Redis key of the deployment (queues, locks): a Redis
    // restarted empty. Fresh datadirs too: no node's cache is needed, the index and registry hold it all.
    await one.stop();
    await two.stop();
    expect(await deletePrefix(prefix)).toBeGreaterThan(0);
    one = await startStack({ name: "two-nodes-1b", prefix, env, dataDir: makeTempDir("two-nodes-a2") });
    // Node 2 now sends clients to the registry instead of streaming (storage.registry.redirect).
    const redirecting = { ...env, BESKARYUM_STORAGE_REGISTRY_REDIRECT: "true" };
    two = await startStack({
      name: "two-nodes-2b",
      prefix,
      env: redirecting,
      dataDir: makeTempDir("two-nodes-b2"),
      // Node 2 is an API alone now: what it records, worker-1 (on another datadir) does.
      workers: 0,
    });
    const listed = await two.call("GET", "/repository:list", {});
    expect(listed.json.repositories).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ repository: hosted, packages: 3 }),
        expect.objectContaining({ repository: mirror, packages: 27 }),
      ]),
    );
    expect(await missingRepodataFiles(one.repoUrl(mirror))).toEqual([]);
    const installed = await makeDnf(one.repoUrl(hosted)).install(["yumtest-app"]);
    expect(installed.stdout).toMatch(/yumtest-lib/);
    const [pkg] = (await fetchPrimary(two.repoUrl(hosted))).packages;
    const moved = await fetch(`${two.repoUrl(hosted)}${pkg!.href}`, { redirect: "manual" });
    expect(moved.status).toBe(301);
    expect(moved.headers.get("location")).toBe(
      `${registry.url}/v2/${hosted}/packages/blobs/sha256:${pkg!.pkgid}`,
    );
    expect((await makeDnf(two.repoUrl(hosted)).install(["yumtest-app"])).stdout).toMatch(/yumtest-lib/);
    expect(bytesUnder(new RepositoryStorage(two.dataDir).paths(hosted).root)).toBe(0);
    // An on_demand mirror's package fetched from upstream by one node is in the registry for the other.
    const lazy = "artifacts/yum/two-nodes-on-demand";
    const properties = { mirror: true, mirror_urls: [upstream.url("rocky")], sync_policy: "on_demand" };
    expect((await one.call("POST", "/repository", { repository: lazy, properties })).status).toBe(200);
    expect((await one.call("GET", "/repository/sync", { repository: lazy, wait: true })).status).toBe(200);
    const [name, file] = Object.entries(rockyFiles)[0]!;
    const digestOf = async (res: Response) =>
      createHash("sha256")
        .update(Buffer.from(await res.arrayBuffer()))
        .digest("hex");
    const fetchedUpstream = () =>
      upstream.server.requests.filter((r) => r.path.endsWith(`/${name}`) && r.method === "GET").length;
    const before = fetchedUpstream();
    expect(await digestOf(await fetch(`${one.repoUrl(lazy)}Packages/${name}`))).toBe(file.sha256);
    // Shared once stored, which may be just after the client has its last byte.
    const blobUrl = `${registry.url}/v2/${lazy}/packages/blobs/sha256:${file.sha256}`;
    await eventually("the package in the registry", async () =>
      (await fetch(blobUrl, { method: "HEAD" })).status === 200 ? true : undefined,
    );
    expect(await digestOf(await fetch(`${two.repoUrl(lazy)}Packages/${name}`))).toBe(file.sha256);
    expect(fetchedUpstream()).toBe(before + 1);

    // And the work queues start over: an upload through API-2 is published by a worker.
    const removed = await two.call("DELETE", "/repository/package:bytag", {
      repository: hosted,
      tag: (await two.call("GET", "/repository/package:list", { repository: hosted })).json
        .repository_packages[0].tag,
    });
    expect(removed.status).toBe(200);
    const again = await two.upload(hosted, rpms.all[0]!, { wait: true });
    expect(again.status, JSON.stringify(again.json)).toBe(201);

    // A repository deleted through API-2: its manifests are deleted from the registry by worker-1
    // (the tombstone is in the shared index, not on the datadir of the API that deleted it).
    let seen: string[] = [];
    const tags = async () => {
      const res = await fetch(`${registry.url}/v2/${hosted}/packages/tags/list`);
      seen = res.status === 200 ? (((await res.json()) as { tags: string[] | null }).tags ?? []) : [];
      return seen;
    };
    const listedTags = (
      await two.call("GET", "/repository/package:list", { repository: hosted })
    ).json.repository_packages
      .map((p: { tag: string }) => p.tag)
      .sort();
    await eventually(
      "the hosted repository's manifests pushed",
      async () => (JSON.stringify((await tags()).sort()) === JSON.stringify(listedTags) ? true : undefined),
      { context: () => `tags: ${JSON.stringify(seen)}, listed: ${JSON.stringify(listedTags)}` },
    );
    const deleted = await two.call("DELETE", "/repository", { repository: hosted, delete_packages: true });
    expect(deleted.status, JSON.stringify(deleted.json)).toBe(200);
    await eventually("its manifests deleted from the registry", async () =>
      (await tags()).length === 0 ? true : undefined,
    );
  });
});
