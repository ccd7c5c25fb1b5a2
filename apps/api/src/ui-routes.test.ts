import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createRedis, RepoLock, RepoTrigger, SyncQueue } from "@beskar-yum/queue";
import { RepositoryService } from "@beskar-yum/repository";
import { ephemeralSigner } from "@beskar-yum/signing";
import { type PackageRecord, RepositoryStorage } from "@beskar-yum/storage";
import type { FastifyInstance } from "fastify";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fakeRecord } from "../../../packages/storage/src/test-support/fake-record.js";
import { inProcessApp } from "./test-support/in-process-app.js";
import { searchPackages } from "./ui-read-model.js";

const secret = "hunter2-password";
const properties = {
  mirror: true,
  mirror_urls: [`https://user:${secret}@mirror.example/el9/`],
  gpg_key: "",
  proxy_url: `http://proxy:${secret}@proxy.example:3128`,
  tls_key: `-----BEGIN PRIVATE KEY-----${secret}`,
};

function record(i: number): PackageRecord {
  const tag = i.toString(16).padStart(32, "0");
  const name = `pkg${String(i).padStart(6, "0")}`;
  const arch = i % 10 === 0 ? "x86_64" : "noarch";
  return fakeRecord(tag, {
    id: tag.padEnd(64, "a"),
    fileName: `${name}-1-1.${arch}.rpm`,
    href: `Packages/p/${name}-1-1.${arch}.rpm`,
    name,
    arch,
    summary: "<b>s</b>",
    description: "d",
  });
}

describe("the dashboard's read-only JSON (/ui/api)", () => {
  let app: FastifyInstance;
  let dir: string;
  let redis: Redis;
  let storage: RepositoryStorage;
  let service: RepositoryService;
  const prefix = `bytest-ui-${randomBytes(4).toString("hex")}`;
  const big = "artifacts/yum/big";
  const total = 2_500;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "byui-"));
    redis = createRedis(process.env.BESKARYUM_TEST_REDIS_URL ?? "redis://127.0.0.1:6379", "ui-test");
    storage = new RepositoryStorage(dir);
    const signer = await ephemeralSigner();
    app = await inProcessApp({ storage, redis, prefix, adminToken: "t".repeat(32), signer });
    service = new RepositoryService({
      signer,
      storage,
      trigger: new RepoTrigger(redis, prefix),
      syncs: new SyncQueue(redis, prefix),
      lock: new RepoLock(redis, prefix),
      maxUploadBytes: 1000,
      waitTimeoutMs: 1000,
      graceSeconds: 300,
    });
    const index = await storage.createIndex(big);
    await index.createRepository(properties, 1);
    for (let i = 0; i < total; i += 500)
      await index.stagePackages(
        1,
        Array.from({ length: 500 }, (_, j) => record(i + j)),
      );
    await index.commitMirrorGeneration(1, {
      deleteTags: [],
      revision: 1_700_000_000,
      repomd: "<r/>",
      repomdAsc: undefined,
    });
    for (let i = 0; i < 1_205; i++) await index.addLog("INFO", `line ${i}`, 1_000_000 + i);
    // Written around the index's own redaction: what is shown is redacted again.
    await index.addLog("ERROR", `fetching https://user:${secret}@mirror.example/el9/ failed`, 1_002_000);
    await index.updateSyncState({ syncError: `upstream https://user:${secret}@mirror.example/ said no` });
  });
  afterAll(async () => {
    await app.close();
    storage.close();
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
    rmSync(dir, { recursive: true, force: true });
  });

  const get = (url: string) => app.inject({ method: "GET", url });

  it("lists repositories with counts, publish time and sync state, and none of their properties", async () => {
    const res = await get("/ui/api/repositories");
    expect(res.statusCode).toBe(200);
    expect(res.headers["cache-control"]).toBe("no-store");
    expect(res.headers["content-security-policy"]).toContain("default-src 'none'");
    expect(res.body).not.toContain(secret);
    // Properties are not shown at all (the sync error names the upstream, its password hidden).
    for (const word of ["mirror_urls", "proxy", "PRIVATE KEY", "tls_key"])
      expect(res.body).not.toContain(word);
    const [repo] = res.json().repositories;
    expect(repo).toMatchObject({
      repository: big,
      mirror: true,
      packages: total,
      syncing: false,
      last_publish: "2023-11-14 22:13:20 UTC",
    });
    expect(repo.sync.sync_error).toBe("upstream https://user:***@mirror.example/ said no");
    expect(Object.keys(repo).sort()).toEqual([
      "last_publish",
      "mirror",
      "packages",
      "repository",
      "sync",
      "syncing",
    ]);
  });

  it("pages the repositories, searches them by name, and gives one by its name", async () => {
    const names = ["team/alpha", "team/beta", "other/gamma"].map((n) => `artifacts/yum/${n}`);
    for (const name of names) await (await storage.createIndex(name)).createRepository(properties, 1);
    const repositories = async (query: string) => {
      const res = await get(`/ui/api/repositories?${query}`);
      expect(res.statusCode, res.body).toBe(200);
      return res.json() as { repositories: { repository: string }[]; next_page_token?: string };
    };
    const listed = (page: { repositories: { repository: string }[] }) =>
      page.repositories.map((r) => r.repository);
    const first = await repositories("page.size=2");
    expect(listed(first)).toEqual([big, "artifacts/yum/other/gamma"]);
    const second = await repositories(`page.size=2&page.token=${first.next_page_token}`);
    expect(listed(second)).toEqual(["artifacts/yum/team/alpha", "artifacts/yum/team/beta"]);
    expect(second.next_page_token).toBeUndefined();
    // A substring of the name without its prefix, any case; paged the same way.
    const team = await repositories("search=TEAM/&page.size=1");
    expect(listed(team)).toEqual(["artifacts/yum/team/alpha"]);
    expect(listed(await repositories(`search=team/&page.size=1&page.token=${team.next_page_token}`))).toEqual(
      ["artifacts/yum/team/beta"],
    );
    expect(listed(await repositories("search=artifacts"))).toEqual([]);
    expect(listed(await repositories("repository=artifacts/yum/team/beta"))).toEqual([
      "artifacts/yum/team/beta",
    ]);
    expect(listed(await repositories("repository=artifacts/yum/team"))).toEqual([]);
    expect((await get("/ui/api/repositories?repository=../x")).statusCode).toBe(400);
  });

  it("pages packages without a filter, each once, in location order", async () => {
    const seen: string[] = [];
    let token: string | undefined;
    do {
      const res = await get(`/ui/api/packages?repository=${big}${token ? `&page.token=${token}` : ""}`);
      expect(res.statusCode).toBe(200);
      const body = res.json();
      seen.push(...body.packages.map((p: { name: string }) => p.name));
      token = body.next_page_token;
    } while (token);
    expect(seen).toHaveLength(total);
    expect(new Set(seen).size).toBe(total);
    expect(seen).toEqual([...seen].sort());
  });

  it("filters by substring (any case), exact arch and exact name; only header fields", async () => {
    const search = (await get(`/ui/api/packages?repository=${big}&search=PKG00241`)).json();
    expect(search.packages.map((p: { name: string }) => p.name)).toEqual(
      Array.from({ length: 10 }, (_, i) => `pkg00241${i}`),
    );
    expect(search.next_page_token).toBeUndefined();
    expect(Object.keys(search.packages[0]).sort()).toEqual(
      ["architecture", "build_time", "id", "name", "release", "size", "summary", "version"].sort(),
    );
    expect(search.packages[0].summary).toBe("<b>s</b>");
    const arch = (await get(`/ui/api/packages?repository=${big}&search=pkg00241&arch=x86_64`)).json();
    expect(arch.packages.map((p: { name: string }) => p.name)).toEqual(["pkg002410"]);
    const name = (await get(`/ui/api/packages?repository=${big}&name=pkg000007`)).json();
    expect(name.packages.map((p: { name: string }) => p.name)).toEqual(["pkg000007"]);
    const none = (await get(`/ui/api/packages?repository=${big}&search=nothing`)).json();
    expect(none).toEqual({ packages: [] });
  });

  it("bounds the rows one search request reads, and goes on from its token", async () => {
    const found: string[] = [];
    let token: string | undefined;
    let requests = 0;
    do {
      const page = await searchPackages(
        service,
        big,
        { arch: "x86_64" },
        {
          wanted: 1_000,
          scanLimit: 400,
          ...(token ? { token } : {}),
        },
      );
      found.push(...page.packages.map((p) => p.name));
      token = page.nextPageToken;
      requests++;
    } while (token);
    // 400 rows (two steps of 200) per request, one x86_64 package in ten.
    expect(requests).toBe(Math.ceil(total / 400));
    expect(found).toEqual(
      Array.from({ length: total / 10 }, (_, i) => `pkg${String(i * 10).padStart(6, "0")}`),
    );
  });

  it("pages the log, finds its last page, goes back from any page, and redacts what it shows", async () => {
    const last = (await get(`/ui/api/logs?repository=${big}&page.size=100&last=true`)).json();
    // The newest 100 lines, whatever the first page's boundaries.
    expect(last.logs.map((l: { message: string }) => l.message).slice(0, 2)).toEqual([
      "line 1106",
      "line 1107",
    ]);
    expect(last.logs).toHaveLength(100);
    expect(last.logs.at(-1)).toEqual({
      level: "ERROR",
      date: "1970-01-12 14:20:00 UTC",
      message: "fetching https://user:***@mirror.example/el9/ failed",
    });
    expect(last.next_page_token).toBeUndefined();
    // Its page_token reads the same page again (how the page follows new lines).
    const again = (
      await get(`/ui/api/logs?repository=${big}&page.size=100&page.token=${last.page_token}`)
    ).json();
    expect(again.logs).toEqual(last.logs);
    // Back, page by page, to the first line: every line once, in order; forward again from any page.
    const messages = (page: { logs: { message: string }[] }) => page.logs.map((l) => l.message);
    const read = [...messages(last)];
    let at = last;
    let pages = 1;
    while (at.page_token !== undefined) {
      const token: string = at.page_token;
      at = (await get(`/ui/api/logs?repository=${big}&page.size=100&before=true&page.token=${token}`)).json();
      const forward = (
        await get(`/ui/api/logs?repository=${big}&page.size=100&page.token=${at.next_page_token}`)
      ).json();
      expect(messages(forward)[0]).toBe(read[0]);
      read.unshift(...messages(at));
      pages++;
    }
    expect(pages).toBe(13);
    expect(read.slice(0, -1)).toEqual(Array.from({ length: read.length - 1 }, (_, i) => `line ${i}`));
    expect(read).toHaveLength(1206);
    const first = (await get(`/ui/api/logs?repository=${big}&page.size=100`)).json();
    expect(first.logs[0].message).toBe("line 0");
    expect(first.next_page_token).toEqual(expect.any(String));
    expect(first.page_token).toBeUndefined();
  });

  it("answers bad input with 4xx and the API's error body", async () => {
    const cases: [string, number][] = [
      ["/ui/api/packages", 400],
      ["/ui/api/packages?repository=../../etc", 400],
      ["/ui/api/packages?repository=artifacts/yum/nope", 404],
      [`/ui/api/packages?repository=${big}&page.token=garbage`, 400],
      [`/ui/api/packages?repository=${big}&search=a&search=b`, 400],
      ["/ui/api/logs?repository=artifacts/yum/nope", 404],
      [`/ui/api/logs?repository=${big}&page.size=-1`, 400],
      ["/ui/js/..%2Fmain.js", 404],
      ["/ui/js/main.ts", 404],
    ];
    for (const [url, status] of cases) {
      const res = await get(url);
      expect(res.statusCode, url).toBe(status);
      expect(res.json().error.message, url).toEqual(expect.any(String));
    }
  });
});
