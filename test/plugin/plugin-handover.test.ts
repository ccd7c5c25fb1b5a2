import { createHash } from "node:crypto";
import { copyFileSync, readFileSync } from "node:fs";
import { basename, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase } from "../../packages/storage/src/test-support/postgres-test-db.js";
import type { GoPeer } from "../gossip/go-programs.js";
import { fetchPrimary, missingRepodataFiles } from "../harness/repodata-client.js";
import type { Stack } from "../harness/stack.js";
import { rockyTestdata, startUpstream, type Upstream } from "../harness/upstream.js";
import { makeDnf } from "../support/dnf.js";
import { type DockerRegistry, dockerRegistry } from "../support/docker-registry.js";
import { eventually } from "../support/eventually.js";
import { stopAll } from "../support/processes.js";
import { deletePrefix, uniquePrefix } from "../support/redis.js";
import { cleanupTempDirs, makeTempDir } from "../support/tmp.js";
import {
  adminThroughBeskar,
  decodeReply,
  eventOf,
  PACKAGE_CONFIG,
  packageManifest,
} from "./beskar-requests.js";
import { startBeskarStandIn, startPluginNode } from "./beskar-stand-in.js";

// Two beskar-yum plugin nodes join the Go Beskar stand-in, sharing one PostgreSQL index, one OCI
// registry as storage (storage.driver: registry) and one Redis prefix, each with a datadir of its
// own. Beskar routes each repository to one node (a rendezvous hash over the plugin nodes present,
// played by the Go stand-in); when that node leaves, to another. Every request and event below goes
// where that routing sends it, and the test checks which node that was.

const RPM = join(rockyTestdata, "Packages/booth-debugsource-1.0-6.ac1d34c.git.el8.2.x86_64.rpm");
const sha256 = (bytes: Buffer) => createHash("sha256").update(bytes).digest("hex");

describe("plugin replicas hand a repository over (postgres + registry)", () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let registry: DockerRegistry;
  let upstream: Upstream;
  let go: GoPeer;
  let beskarBlobs: string;
  let a: Stack | undefined;
  let b: Stack;
  const prefix = uniquePrefix("handover");

  beforeAll(async () => {
    database = await createTestDatabase();
    registry = await dockerRegistry();
    await registry.start();
    upstream = await startUpstream({ rocky: rockyTestdata });
    beskarBlobs = makeTempDir("beskar-blobs-");
    go = await startBeskarStandIn(["-registry-blobs", beskarBlobs]);
    const env = {
      BESKARYUM_STORAGE_DRIVER: "registry",
      BESKARYUM_REGISTRY_URL: registry.url,
      BESKARYUM_INDEX_DRIVER: "postgres",
      BESKARYUM_INDEX_POSTGRES_URL: database.url,
      BESKARYUM_WORKER_LOCK_TTL_MS: "2000",
      BESKARYUM_WORKER_RECONCILE_INTERVAL_MS: "500",
    };
    a = await startPluginNode(go, { name: "handover-a", prefix, env });
    b = await startPluginNode(go, { name: "handover-b", prefix, env });
  }, 120_000);
  afterAll(async () => {
    await a?.stop();
    await b?.stop();
    await deletePrefix(prefix);
    await go?.stop();
    await upstream?.server.close();
    await registry?.stop();
    await database?.drop();
    await stopAll();
    await cleanupTempDirs();
  });

  it("keeps a repository's packages, repodata, sync status and logs when its node leaves", async () => {
    const registered = async (port: string) =>
      String(
        (
          await go.waitForEvent(
            (e) => e.event === "pluginRegistered" && String(e.hostport).endsWith(`:${port}`),
            30_000,
          )
        ).name,
      );
    const nodeA = await registered(new URL(a!.url).port);
    const nodeB = await registered(new URL(b.url).port);
    // Every call goes where Beskar routes it; `expected` is the node it must have reached.
    const admin = async (expected: string, method: string, path: string, body: unknown) => {
      const reply = await adminThroughBeskar(go, "", method, path, body);
      expect(reply.status, JSON.stringify(reply)).toBe(200);
      expect(reply.node).toBe(expected);
      return decodeReply(reply);
    };
    // Two repositories that Beskar's hash gives to node A while both nodes are present.
    const routedTo = async (repository: string) =>
      (await adminThroughBeskar(go, "", "GET", "/repository", { repository })).node;
    const names: string[] = [];
    for (let i = 0; names.length < 2; i++) {
      const name = `artifacts/yum/handover-${i}`;
      if ((await routedTo(name)) === nodeA) names.push(name);
    }
    const [hosted, mirror] = names as [string, string];

    // Through node A: a hosted repository given a package by Beskar's PUT event, and a mirror synced.
    await admin(nodeA, "POST", "/repository", { repository: hosted, properties: {} });
    const rpm = readFileSync(RPM);
    copyFileSync(RPM, join(beskarBlobs, sha256(rpm)));
    const event = eventOf("", `${hosted}/packages`, packageManifest(rpm, basename(RPM)), PACKAGE_CONFIG);
    expect(await go.control("/event", { ...event, action: 1, origin: 1 })).toMatchObject({
      status: 200,
      node: nodeA,
    });
    await eventually("the package published by node A", async () =>
      (await fetchPrimary(a!.repoUrl(hosted))).packages.length === 1 ? true : undefined,
    );
    await admin(nodeA, "POST", "/repository", {
      repository: mirror,
      properties: { mirror: true, mirror_urls: [upstream.url("rocky")] },
    });
    // Without `wait` (the stand-in's client gives up after 5 s; a sync on a loaded machine may not):
    // done once the mirror's log has one more "sync finished" line than before.
    const finishedSyncs = async () =>
      decodeReply(
        await adminThroughBeskar(go, "", "GET", "/repository/logs", { repository: mirror }),
      ).logs.filter((l: { message: string }) => l.message.startsWith("sync finished")).length;
    const sync = async (node: string) => {
      const before = await finishedSyncs();
      await admin(node, "GET", "/repository/sync", { repository: mirror });
      await eventually(
        `the mirror synced through ${node}`,
        async () => ((await finishedSyncs()) > before ? true : undefined),
        { timeoutMs: 60_000 },
      );
    };
    await sync(nodeA);
    const handed = {
      packages: await admin(nodeA, "GET", "/repository/package:list", { repository: hosted }),
      status: await admin(nodeA, "GET", "/repository/sync:status", { repository: mirror }),
      hostedLogs: await admin(nodeA, "GET", "/repository/logs", { repository: hosted }),
      mirrorLogs: await admin(nodeA, "GET", "/repository/logs", { repository: mirror }),
    };
    expect(handed.status.sync_status).toMatchObject({ syncing: false, synced_packages: 27, sync_error: "" });

    // Node A leaves; Beskar's hash now gives the repositories to node B, which has never seen them.
    await a!.stop();
    a = undefined;
    await go.waitForEvent((e) => e.event === "pluginUnregistered" && e.name === nodeA, 30_000);
    expect(await admin(nodeB, "GET", "/repository/package:list", { repository: hosted })).toEqual(
      handed.packages,
    );
    expect(await admin(nodeB, "GET", "/repository/sync:status", { repository: mirror })).toEqual(
      handed.status,
    );
    expect(await admin(nodeB, "GET", "/repository/logs", { repository: hosted })).toEqual(handed.hostedLogs);
    expect(await admin(nodeB, "GET", "/repository/logs", { repository: mirror })).toEqual(handed.mirrorLogs);
    expect((await fetchPrimary(b.repoUrl(mirror))).packages).toHaveLength(27);
    expect(await missingRepodataFiles(b.repoUrl(mirror))).toEqual([]);
    const dnf = makeDnf(b.repoUrl(hosted));
    await dnf.install(["booth-debugsource"]);
    expect(await dnf.installed()).toContain("booth-debugsource-1.0-6.ac1d34c.git.el8.2.x86_64");
    // And node B goes on with it: a sync of the mirror through B.
    await sync(nodeB);
    const status = await admin(nodeB, "GET", "/repository/sync:status", { repository: mirror });
    expect(status.sync_status).toMatchObject({ syncing: false, synced_packages: 27, sync_error: "" });
  }, 180_000);
});
