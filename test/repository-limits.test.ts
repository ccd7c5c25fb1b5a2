import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Stack, startStack } from "./harness/stack.js";
import { rockyTestdata, startUpstream, type Upstream } from "./harness/upstream.js";
import { cleanupTempDirs } from "./support/tmp.js";

const rpm = (name: string) => join(rockyTestdata, "Packages", name);
const booth = "booth-debugsource-1.0-6.ac1d34c.git.el8.2.x86_64.rpm";
const clufter = "clufter-debugsource-0.77.1-5.el8.x86_64.rpm";
const corosync = "corosync-qdevice-debuginfo-3.0.0-4.el8.x86_64.rpm";

/** limits.max_packages_per_repository, set low (the Rocky fixture lists 27 packages). */
describe("limits.max_packages_per_repository", () => {
  let stack: Stack;
  let upstream: Upstream;

  beforeAll(async () => {
    upstream = await startUpstream({ rocky: rockyTestdata });
    stack = await startStack({
      name: "limits",
      env: { BESKARYUM_LIMITS_MAX_PACKAGES_PER_REPOSITORY: "2", BESKARYUM_LIMITS_LOG_MAX_ROWS: "5" },
    });
  });
  afterAll(async () => {
    await stack?.stop();
    await upstream?.server.close();
    await cleanupTempDirs();
  });

  it("a sync of an upstream listing more fails before downloading, with a precise sync_error", async () => {
    const repository = "artifacts/yum/limited-mirror";
    const created = await stack.call("POST", "/repository", {
      repository,
      properties: { mirror: true, mirror_urls: [upstream.url("rocky")] },
    });
    expect(created.status).toBe(200);
    const res = await stack.call("GET", "/repository/sync", { repository, wait: true });
    expect(res.status).toBe(500);
    const { sync_status: status } = (await stack.call("GET", "/repository/sync:status", { repository })).json;
    expect(status.syncing).toBe(false);
    expect(status.sync_error).toContain(
      "upstream primary.xml lists 27 packages, more than limits.max_packages_per_repository (2) allows",
    );
    // Nothing but metadata was fetched, and nothing is served.
    expect(upstream.server.requests.filter((r) => r.path.endsWith(".rpm"))).toEqual([]);
    const listed = await stack.call("GET", "/repository/package:list", { repository });
    expect(listed.json.repository_packages).toBeNull();
  });

  it("an upload of a new package beyond it gets 400 REPO_PACKAGE_LIMIT; replacing one still works", async () => {
    const repository = "artifacts/yum/limited-hosted";
    for (const file of [booth, clufter]) {
      const res = await stack.upload(repository, rpm(file), { wait: true });
      expect(res.status, JSON.stringify(res.json)).toBe(201);
    }
    const refused = await stack.upload(repository, rpm(corosync), { wait: true });
    expect(refused.status).toBe(400);
    expect(refused.json.error).toMatchObject({ code: "FailedPrecondition", reason: "REPO_PACKAGE_LIMIT" });
    expect(refused.json.error.message).toContain(
      "has 2 packages, the most limits.max_packages_per_repository allows (2)",
    );
    // The same package again (its tag is there) is no new package.
    expect((await stack.upload(repository, rpm(booth), { wait: true })).status).toBe(201);
    const listed = await stack.call("GET", "/repository/package:list", { repository });
    expect(listed.json.repository_packages.map((p: { name: string }) => p.name).sort()).toEqual([
      "booth-debugsource",
      "clufter-debugsource",
    ]);
  });

  it("keeps at most limits.log_max_rows lines of a repository's log", async () => {
    const repository = "artifacts/yum/limited-mirror";
    for (let i = 0; i < 4; i++) await stack.call("GET", "/repository/sync", { repository, wait: true });
    const { json } = await stack.call("GET", "/repository/logs", { repository });
    expect(json.logs.length).toBeGreaterThan(0);
    expect(json.logs.length).toBeLessThanOrEqual(5);
  });
});
