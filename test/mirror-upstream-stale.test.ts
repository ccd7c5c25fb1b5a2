import { cpSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fetchPrimary } from "./harness/repodata-client.js";
import { type Stack, startStack } from "./harness/stack.js";
import { startUpstream, type Upstream } from "./harness/upstream.js";
import { makeUpstreamVersions, type UpstreamVersions } from "./harness/upstream-versions.js";
import { run } from "./support/run.js";
import { cleanupTempDirs } from "./support/tmp.js";

describe("a stale upstream never rolls a mirror back", () => {
  let stack: Stack;
  let upstream: Upstream;
  let versions: UpstreamVersions;

  beforeAll(async () => {
    versions = await makeUpstreamVersions("stale");
    upstream = await startUpstream({ repo: versions.current });
    stack = await startStack({ name: "mirror-stale" });
  });
  afterAll(async () => {
    await stack?.stop();
    await upstream?.server.close();
    await cleanupTempDirs();
  });

  const served = async (repository: string) =>
    (await fetch(`${stack.repoUrl(repository)}repodata/repomd.xml`)).text();

  it("refuses an older repomd.xml with a clear error and log, then accepts it when forced (CLI --force)", async () => {
    const repository = "artifacts/yum/m-stale";
    const created = await stack.call("POST", "/repository", {
      repository,
      properties: { mirror: true, mirror_urls: [upstream.url("repo")] },
    });
    expect(created.status).toBe(200);
    expect((await stack.call("GET", "/repository/sync", { repository, wait: true })).status).toBe(200);
    const current = await served(repository);
    expect(current).toBe(readFileSync(join(versions.current, "repodata/repomd.xml"), "utf8"));

    // The upstream goes back in time, as a mirror that lags behind does.
    rmSync(join(upstream.root, "repo"), { recursive: true });
    cpSync(versions.old, join(upstream.root, "repo"), { recursive: true });
    const refused = await stack.call("GET", "/repository/sync", { repository, wait: true });
    expect(refused.status).toBe(500);
    const message = `upstream repomd.xml revision ${versions.oldRevision} is older than the served ${versions.currentRevision}: refusing to roll back; sync with force to accept`;
    expect(refused.json.error.message).toBe(`synchronization failed: ${message}`);
    const status = (await stack.call("GET", "/repository/sync:status", { repository })).json.sync_status;
    expect(status.sync_error).toBe(message);
    const logs = (await stack.call("GET", "/repository/logs", { repository })).json.logs;
    expect(logs.at(-1)).toMatchObject({ level: "ERROR", message: `sync failed: ${message}` });
    expect(await served(repository)).toBe(current);
    expect((await fetchPrimary(stack.repoUrl(repository))).packages).toHaveLength(3);

    // Forced (the operator means it): the older generation is published.
    const cli = fileURLToPath(new URL("../apps/cli/bin/beskar-yum.js", import.meta.url));
    const env = { BESKARYUM_URL: stack.url, BESKARYUM_TOKEN: stack.token };
    const forced = await run("node", [cli, "sync", "m-stale", "--force", "--wait"], {
      env,
      timeoutMs: 60_000,
    });
    expect(forced.stderr).toBe("");
    expect(forced.code).toBe(0);
    expect(await served(repository)).toBe(readFileSync(join(versions.old, "repodata/repomd.xml"), "utf8"));
    expect((await fetchPrimary(stack.repoUrl(repository))).packages).toHaveLength(2);
    const forcedLogs = (await stack.call("GET", "/repository/logs", { repository })).json.logs;
    expect(forcedLogs.map((l: { message: string }) => l.message)).toContain(
      `forced sync: upstream repomd.xml revision ${versions.oldRevision} is older than the served ${versions.currentRevision}; accepted`,
    );
  });

  it("accepts a newer upstream as usual, and takes force from the query string too", async () => {
    const repository = "artifacts/yum/m-stale";
    const swapTo = (dir: string) => {
      rmSync(join(upstream.root, "repo"), { recursive: true });
      cpSync(dir, join(upstream.root, "repo"), { recursive: true });
    };
    swapTo(versions.current);
    expect((await stack.call("GET", "/repository/sync", { repository, wait: true })).status).toBe(200);
    expect((await fetchPrimary(stack.repoUrl(repository))).packages).toHaveLength(3);
    swapTo(versions.old);
    expect((await stack.call("GET", "/repository/sync?wait=true", { repository })).status).toBe(500);
    expect((await stack.call("GET", "/repository/sync?force=true&wait=true", { repository })).status).toBe(
      200,
    );
    expect(await served(repository)).toBe(readFileSync(join(versions.old, "repodata/repomd.xml"), "utf8"));
  });
});
