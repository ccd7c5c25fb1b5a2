import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { type Stack, startStack } from "./harness/stack.js";
import { rockyTestdata, startUpstream, type Upstream } from "./harness/upstream.js";
import { cleanupTempDirs, makeTempDir } from "./support/tmp.js";

/** Beskar's own mirror integration scenario (docs/beskar-compatibility.md §4), step for step. */
const config = parse(readFileSync(join(rockyTestdata, "repoconfig.yaml"), "utf8"))[
  "vault-rocky-8.3-ha-debug"
] as {
  gpgkey: string;
  files: Record<string, { sha256: string; size: number }>;
};
const repository = "artifacts/yum/vault-rocky-8.3-ha-debug-mirror";
const name = "vault-rocky-8.3-ha-debug";
const gpgKey = Buffer.from(config.gpgkey).toString("base64");

describe("Beskar's mirror scenario", () => {
  let stack: Stack;
  let upstream: Upstream;
  let storageDir: string;
  beforeAll(async () => {
    storageDir = makeTempDir("beskar-mirror-storage");
    upstream = await startUpstream({ [name]: rockyTestdata });
    stack = await startStack({
      name: "beskar-m",
      // As Beskar's: repository logs hold errors only, so that its step "logs → 0 entries" holds.
      env: { BESKARYUM_STORAGE_FILESYSTEM_DIRECTORY: storageDir, BESKARYUM_LOG_REPOSITORY_INFO: "false" },
    });
  });
  afterAll(async () => {
    await stack?.stop();
    await upstream?.server.close();
    await cleanupTempDirs();
  });

  let status: Record<string, unknown>;

  it("1-2. creates the mirror and reads its properties back", async () => {
    const props = { mirror: true, mirror_urls: [upstream.url(name)], gpg_key: gpgKey };
    expect((await stack.call("POST", "/repository", { repository, properties: props })).status).toBe(200);
    const { json } = await stack.call("GET", "/repository", { repository });
    expect(json.properties).toMatchObject(props);
  });

  it("3. syncs with wait and reports 27/27", async () => {
    const { status: code, json } = await stack.call("GET", "/repository/sync", { repository, wait: true });
    expect(code, JSON.stringify(json)).toBe(200);
    status = (await stack.call("GET", "/repository/sync:status", { repository })).json.sync_status;
    expect(status).toMatchObject({ syncing: false, sync_error: "", total_packages: 27, synced_packages: 27 });
    expect(status.start_time).not.toBe("");
    expect(status).toMatchObject({
      phase: "",
      downloaded_packages: 27,
      downloaded_bytes: expect.any(Number),
      bytes_per_second: expect.any(Number),
    });
    expect(status.end_time).not.toBe("");
  });

  it("4. syncs again from the basic-auth URL, with nothing to change", async () => {
    const { status: code, json } = await stack.call("GET", "/repository/sync:url", {
      repository,
      mirror_url: upstream.authUrl(name),
      wait: true,
    });
    expect(code, JSON.stringify(json)).toBe(200);
    const after = (await stack.call("GET", "/repository/sync:status", { repository })).json.sync_status;
    expect(after).toMatchObject({
      syncing: false,
      sync_error: "",
      total_packages: 27,
      synced_packages: 27,
      downloaded_packages: 0,
    });
    const authRequests = upstream.server.requests.filter((r) => r.path.startsWith("/auth/"));
    expect(authRequests.length).toBeGreaterThan(0);
    expect(authRequests.every((r) => r.status === 200 || r.status === 404)).toBe(true);
    // sync:url is not persisted (as in Beskar).
    expect((await stack.call("GET", "/repository", { repository })).json.properties.mirror_urls).toEqual([
      upstream.url(name),
    ]);
  });

  it("5. serves all 27 RPMs byte for byte, and repomd.xml", async () => {
    for (const [file, expected] of Object.entries(config.files)) {
      const response = await fetch(`${stack.repoUrl(repository)}${file}`);
      expect(response.status, file).toBe(200);
      const body = Buffer.from(await response.arrayBuffer());
      expect(body.length).toBe(expected.size);
      expect(createHash("sha256").update(body).digest("hex")).toBe(expected.sha256);
    }
    const repomd = await fetch(`${stack.repoUrl(repository)}repodata/repomd.xml`);
    expect(repomd.status).toBe(200);
    expect(await repomd.text()).toBe(readFileSync(join(rockyTestdata, "repodata/repomd.xml"), "utf8"));
  });

  it("6. refuses to delete while it has packages and to remove a package of a mirror; no logs", async () => {
    expect((await stack.call("DELETE", "/repository", { repository })).status).toBe(400);
    const list = await stack.call("GET", "/repository/package:list", { repository });
    expect(list.json.repository_packages).toHaveLength(27);
    const removed = await stack.call("DELETE", "/repository/package:bytag", {
      repository,
      tag: list.json.repository_packages[0].tag,
    });
    expect(removed.status).toBe(400);
    expect(removed.json.error.message).toBe("could not delete package for mirror repository");
    expect((await stack.call("GET", "/repository/logs", { repository })).json.logs).toEqual([]);
  });

  it("7. deletes with its packages and leaves its storage directory empty", async () => {
    expect((await stack.call("DELETE", "/repository", { repository, delete_packages: true })).status).toBe(
      200,
    );
    const dir = join(storageDir, repository);
    expect(existsSync(dir)).toBe(true);
    expect(readdirSync(dir)).toEqual([]);
  });
});
