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
// own. Beskar routes each repository to one node; when that node leaves, to another: the test plays
// Beskar's routing by addressing node A, then, once A has left, node B.

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
    const admin = async (node: string, method: string, path: string, body: unknown) => {
      const reply = await adminThroughBeskar(go, node, method, path, body);
      expect(reply.status, JSON.stringify(reply)).toBe(200);
      return decodeReply(reply);
    };

    // Through node A: a hosted repository given a package by Beskar's PUT event, and a mirror synced.
    const hosted = "artifacts/yum/handover";
    const mirror = "artifacts/yum/handover-mirror";
    await admin(nodeA, "POST", "/repository", { repository: hosted, properties: {} });
    const rpm = readFileSync(RPM);
    copyFileSync(RPM, join(beskarBlobs, sha256(rpm)));
    const event = eventOf(nodeA, `${hosted}/packages`, packageManifest(rpm, basename(RPM)), PACKAGE_CONFIG);
    expect(await go.control("/event", { ...event, action: 1, origin: 1 })).toMatchObject({ status: 200 });
    await eventually("the package published by node A", async () =>
      (await fetchPrimary(a!.repoUrl(hosted))).packages.length === 1 ? true : undefined,
    );
    await admin(nodeA, "POST", "/repository", {
      repository: mirror,
      properties: { mirror: true, mirror_urls: [upstream.url("rocky")] },
    });
    // Without `wait` (the stand-in's client gives up after 5 s; a sync on a loaded machine may not):
    // done once the mirror's log has one more "sync finished" line than before.
    const finishedSyncs = async (node: string) =>
      decodeReply(
        await adminThroughBeskar(go, node, "GET", "/repository/logs", { repository: mirror }),
      ).logs.filter((l: { message: string }) => l.message.startsWith("sync finished")).length;
    const sync = async (node: string) => {
      const before = await finishedSyncs(node);
      await admin(node, "GET", "/repository/sync", { repository: mirror });
      await eventually(
        `the mirror synced through ${node}`,
        async () => ((await finishedSyncs(node)) > before ? true : undefined),
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

    // Node A leaves; Beskar routes the repositories to node B, which has never seen them.
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
