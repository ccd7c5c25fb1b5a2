import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createRedis } from "@beskar-yum/queue";
import { ephemeralSigner } from "@beskar-yum/signing";
import { RepositoryStorage } from "@beskar-yum/storage";
import type { FastifyInstance } from "fastify";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inProcessApp } from "./test-support/in-process-app.js";

const rocky = new URL("../../../test/fixtures/rocky-8.3-ha-debug/", import.meta.url).pathname;
const token = "secret-token";
const auth = { authorization: `Bearer ${token}` };

describe("API (in-process, no worker)", () => {
  let app: FastifyInstance;
  let dir: string;
  let redis: Redis;
  let storage: RepositoryStorage;
  const prefix = `bytest-api-${randomBytes(4).toString("hex")}`;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "byapi-"));
    redis = createRedis(process.env.BESKARYUM_TEST_REDIS_URL ?? "redis://127.0.0.1:6379", "api-test");
    storage = new RepositoryStorage(dir);
    app = await inProcessApp({ storage, redis, prefix, adminToken: token, signer: await ephemeralSigner() });
  });
  afterAll(async () => {
    await app.close();
    storage.close();
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
    rmSync(dir, { recursive: true, force: true });
  });

  const api = (method: "GET" | "POST" | "PUT" | "DELETE", path: string, body?: unknown, headers = auth) =>
    app.inject({
      method,
      url: `/artifacts/yum/api/v1${path}`,
      headers: { ...headers, "content-type": "application/json" },
      payload: body === undefined ? undefined : JSON.stringify(body),
    });

  it("requires the admin token", async () => {
    const res = await api(
      "GET",
      "/repository",
      { repository: "artifacts/yum/x" },
      { authorization: "Bearer nope" },
    );
    expect(res.statusCode).toBe(401);
    expect(res.json()).toEqual({
      error: { code: "Unauthenticated", reason: "UNAUTHENTICATED", message: "invalid bearer token" },
    });
  });

  it("serves .repo files by section id (a name with / gives a-b.repo), from Host unless told otherwise", async () => {
    const repository = "artifacts/yum/team/tools";
    expect((await api("POST", "/repository", { repository, properties: {} })).statusCode).toBe(200);
    const repoFile = await app.inject({
      method: "GET",
      url: `/${repository}/team-tools.repo`,
      headers: { host: "yum.internal:8080" },
    });
    expect(repoFile.statusCode).toBe(200);
    expect(repoFile.headers["cache-control"]).toBe("no-cache");
    expect(repoFile.body).toBe(
      [
        "[team-tools]",
        "name=team/tools",
        "baseurl=http://yum.internal:8080/artifacts/yum/team/tools/repo/",
        "enabled=1",
        "gpgcheck=0",
        "repo_gpgcheck=1",
        "gpgkey=http://yum.internal:8080/artifacts/yum/team/tools/repo/repodata/repomd.xml.key",
        "",
      ].join("\n"),
    );
    // Another file name under the repository is not its .repo file; a Host that is no host is refused.
    expect((await app.inject({ method: "GET", url: `/${repository}/tools.repo` })).statusCode).toBe(404);
    const badHost = await app.inject({
      method: "GET",
      url: `/${repository}/team-tools.repo`,
      headers: { "x-forwarded-host": "evil.example/path@x" },
    });
    expect(badHost.statusCode).toBe(400);
    expect(badHost.json().error).toMatchObject({
      reason: "INVALID_ARGUMENT",
      message: "the request's Host (or X-Forwarded-Host) is not a host[:port]",
    });
  });

  it("validates repository names like Beskar", async () => {
    for (const repository of [
      "yum/x",
      "artifacts/yum/UPPER",
      "artifacts/yum/a//b",
      "artifacts/yum/../x",
      42,
    ]) {
      const res = await api("GET", "/repository", { repository });
      expect(res.statusCode).toBe(400);
      expect(res.json().error.code).toBe("InvalidArgument");
    }
  });

  it("creates, reads, updates and refuses a second create", async () => {
    const repository = "artifacts/yum/api-crud";
    expect((await api("POST", "/repository", { repository, properties: { mirror: false } })).statusCode).toBe(
      200,
    );
    // Created and servable at once, before any worker ran.
    const repomd = await app.inject({ method: "GET", url: `/${repository}/repo/repodata/repomd.xml` });
    expect(repomd.statusCode).toBe(200);
    expect(repomd.body).toMatch(/<data type="primary">/);
    const again = await api("POST", "/repository", { repository, properties: {} });
    expect(again.statusCode).toBe(409);
    expect(again.json().error).toMatchObject({
      code: "AlreadyExists",
      message: `repository ${repository} already exists`,
    });
    const key = readFileSync(join(rocky, "RPM-GPG-KEY-rockyofficial"), "utf8");
    const b64 = Buffer.from(key).toString("base64");
    expect((await api("PUT", "/repository", { repository, properties: { gpg_key: b64 } })).statusCode).toBe(
      200,
    );
    const got = await api("GET", "/repository", { repository });
    expect(got.json()).toEqual({ properties: { mirror: false, mirror_urls: [], gpg_key: b64 } });
    // The query string works as well as a body.
    const viaQuery = await app.inject({
      method: "GET",
      url: `/artifacts/yum/api/v1/repository?repository=${repository}`,
      headers: auth,
    });
    expect(viaQuery.statusCode).toBe(200);
  });

  it("answers 400 for bad properties and bad keys, 404 for unknown repositories", async () => {
    expect(
      (await api("POST", "/repository", { repository: "artifacts/yum/p1", properties: null })).statusCode,
    ).toBe(400);
    const unknown = await api("POST", "/repository", {
      repository: "artifacts/yum/p1",
      properties: { colour: "red" },
    });
    expect(unknown.json().error.message).toBe("properties.colour: unknown property");
    const badKey = await api("POST", "/repository", {
      repository: "artifacts/yum/p1",
      properties: { gpg_key: Buffer.from("nope").toString("base64") },
    });
    expect(badKey.statusCode).toBe(400);
    expect(badKey.json().error.message).toMatch(/^bad gpg key/);
    const missing = await api("GET", "/repository", { repository: "artifacts/yum/does-not-exist" });
    expect(missing.statusCode).toBe(404);
    expect(missing.json().error.code).toBe("NotFound");
  });

  it("accepts a valid RPM upload with 202 and rejects garbage with 400 without storing it", async () => {
    const repository = "artifacts/yum/api-upload";
    const file = "booth-debugsource-1.0-6.ac1d34c.git.el8.2.x86_64.rpm";
    const ok = await app.inject({
      method: "PUT",
      url: `/${repository}/repo/Packages/${file}`,
      headers: auth,
      payload: readFileSync(join(rocky, "Packages", file)),
    });
    expect(ok.statusCode, ok.body).toBe(202);
    expect(ok.json()).toEqual({
      id: "4c175312dd8cbb81e8f9672bd49cd73b01918c475b3594c2f078caf57cb24022",
      tag: createHash("md5").update(file).digest("hex"),
      name: "booth-debugsource",
      version: "1.0",
      release: "6.ac1d34c.git.el8.2",
      architecture: "x86_64",
    });
    const bad = await app.inject({
      method: "PUT",
      url: `/${repository}/repo/Packages/bad.rpm`,
      headers: auth,
      payload: Buffer.from("<?xml version='1.0'?>\n"),
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.reason).toBe("RPM_BAD_MAGIC");
    const index = (await storage.openIndex(repository))!;
    expect((await index.pendingEvents(10)).filter((e) => e.event.action === "put")).toHaveLength(1);
  });

  it("refuses uploads to a mirror with 409 and times out a wait with 504 when no worker runs", async () => {
    const file = "clufter-bin-debuginfo-0.77.1-5.el8.x86_64.rpm";
    const body = readFileSync(join(rocky, "Packages", file));
    const mirror = "artifacts/yum/api-mirror";
    const created = await api("POST", "/repository", {
      repository: mirror,
      properties: { mirror: true, mirror_urls: ["http://127.0.0.1:1/x"] },
    });
    expect(created.statusCode).toBe(200);
    const refused = await app.inject({
      method: "PUT",
      url: `/${mirror}/repo/Packages/${file}`,
      headers: auth,
      payload: body,
    });
    expect(refused.statusCode).toBe(409);
    expect(refused.json().error.reason).toBe("REPO_IS_MIRROR");
    const badUrl = await api("GET", "/repository/sync:url", { repository: mirror, mirror_url: "ftp://x/y" });
    expect(badUrl.statusCode).toBe(400);
    expect(badUrl.json().error.message).toBe("mirror_url: expected an http(s) URL");
    const notMirror = await api("GET", "/repository/sync", { repository: "artifacts/yum/api-crud" });
    expect(notMirror.statusCode).toBe(400);
    expect(notMirror.json().error).toMatchObject({ code: "FailedPrecondition", reason: "REPO_NOT_MIRROR" });

    const waited = await app.inject({
      method: "PUT",
      url: `/artifacts/yum/api-wait/repo/Packages/${file}?wait=true`,
      headers: auth,
      payload: body,
    });
    expect(waited.statusCode).toBe(504);
    expect(waited.json().error).toMatchObject({ code: "DeadlineExceeded", reason: "TIMEOUT" });
  });

  it("refuses a body over the upload limit with 413 and stores nothing", async () => {
    const repository = "artifacts/yum/api-big";
    const res = await app.inject({
      method: "PUT",
      url: `/${repository}/repo/Packages/big-1-1.noarch.rpm`,
      headers: auth,
      payload: Buffer.alloc(500_000),
    });
    expect(res.statusCode).toBe(413);
    expect(res.json().error).toMatchObject({
      reason: "PAYLOAD_TOO_LARGE",
      message: "body exceeds the limit of 400000 bytes",
    });
    // A refused upload to a repository that did not exist does not create it.
    expect(await storage.openIndex(repository)).toBeUndefined();
  });

  it("serves JSON 404s for unknown content and routes", async () => {
    expect(
      (await app.inject({ method: "GET", url: "/artifacts/yum/nope/repo/repodata/repomd.xml" })).statusCode,
    ).toBe(404);
    const route = await app.inject({ method: "GET", url: "/nowhere" });
    expect(route.statusCode).toBe(404);
    expect(route.json().error.code).toBe("NotFound");
  });

  it("reports health, readiness and metrics", async () => {
    expect((await app.inject({ method: "GET", url: "/healthz" })).json()).toMatchObject({ status: "ok" });
    expect((await app.inject({ method: "GET", url: "/readyz" })).json()).toMatchObject({ status: "ready" });
    const metrics = await app.inject({ method: "GET", url: "/metrics" });
    expect(metrics.body).toMatch(/beskaryum_uploads_total\{outcome="accepted"\} 2/);
    expect(metrics.body).toMatch(/beskaryum_uploads_total\{outcome="REPO_IS_MIRROR"\} 1/);
    expect(metrics.body).toMatch(/beskaryum_uploads_total\{outcome="RPM_BAD_MAGIC"\} 1/);
  });
});
