import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createRedis } from "@beskar-yum/queue";
import { ephemeralSigner } from "@beskar-yum/signing";
import { type PackageRecord, RepositoryStorage } from "@beskar-yum/storage";
import type { FastifyInstance } from "fastify";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fakeRecord } from "../../../packages/storage/src/test-support/fake-record.js";
import type { AdminClient } from "../../cli/src/admin-client.js";
import { allPages } from "../../cli/src/commands.js";
import { inProcessApp } from "./test-support/in-process-app.js";

const token = "secret-token-for-the-pagination-test";
const auth = { authorization: `Bearer ${token}` };
const properties = { mirror: true, mirror_urls: [], gpg_key: "" };

function record(i: number): PackageRecord {
  const tag = i.toString(16).padStart(32, "0");
  const name = `pkg${String(i).padStart(6, "0")}`;
  return fakeRecord(tag, {
    id: tag.padEnd(64, "a"),
    fileName: `${name}-1-1.noarch.rpm`,
    href: `Packages/p/${name}-1-1.noarch.rpm`,
    name,
    summary: "s",
    description: "d",
    // What makes listing every row with its XML slow and big.
    primaryXml: "x".repeat(2000),
    filelistsXml: "y".repeat(2000),
    otherXml: "",
  });
}

describe("paged list endpoints (Beskar's page {size, token})", () => {
  let app: FastifyInstance;
  let dir: string;
  let redis: Redis;
  let storage: RepositoryStorage;
  const prefix = `bytest-pages-${randomBytes(4).toString("hex")}`;
  const big = "artifacts/yum/big";
  const total = 2_500;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "bypages-"));
    redis = createRedis(process.env.BESKARYUM_TEST_REDIS_URL ?? "redis://127.0.0.1:6379", "pages-test");
    storage = new RepositoryStorage(dir);
    app = await inProcessApp({ storage, redis, prefix, adminToken: token, signer: await ephemeralSigner() });
    const index = await storage.createIndex(big);
    await index.createRepository(properties, 1);
    for (let i = 0; i < total; i += 500)
      await index.stagePackages(
        1,
        Array.from({ length: 500 }, (_, j) => record(i + j)),
      );
    await index.commitMirrorGeneration(1, {
      deleteTags: [],
      revision: 1,
      repomd: "<r/>",
      repomdAsc: undefined,
    });
    for (let i = 0; i < 1_205; i++) await index.addLog("INFO", `line ${i}`, 1_000_000 + i);
    for (let i = 0; i < 5; i++)
      await (await storage.createIndex(`artifacts/yum/r${i}`)).createRepository(properties, 1);
  });
  afterAll(async () => {
    await app.close();
    storage.close();
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
    rmSync(dir, { recursive: true, force: true });
  });

  const get = (path: string, body?: unknown, query = "") =>
    app.inject({
      method: "GET",
      url: `/artifacts/yum/api/v1${path}${query}`,
      headers: { ...auth, "content-type": "application/json" },
      payload: body === undefined ? undefined : JSON.stringify(body),
    });

  it("package:list: a default page of 1000, then the next by its token, keyset, no package twice", async () => {
    const seen: string[] = [];
    let tokenOf: string | undefined;
    let pages = 0;
    do {
      const res = await get("/repository/package:list", {
        repository: big,
        page: tokenOf ? { size: 0, token: tokenOf } : undefined,
      });
      expect(res.statusCode).toBe(200);
      const body = res.json() as { repository_packages: { name: string }[]; next_page_token?: string };
      expect(body.repository_packages.length).toBeLessThanOrEqual(1000);
      seen.push(...body.repository_packages.map((p) => p.name));
      tokenOf = body.next_page_token;
      pages++;
    } while (tokenOf);
    expect(pages).toBe(3);
    expect(seen).toHaveLength(total);
    expect(new Set(seen).size).toBe(total);
    expect(seen).toEqual([...seen].sort());
  });

  it("takes Beskar's Go keys (Size, Token), the query string, and lowers a size above the maximum", async () => {
    const first = (await get("/repository/package:list", { repository: big, page: { Size: 7 } })).json();
    expect(first.repository_packages).toHaveLength(7);
    const second = (
      await get(
        "/repository/package:list",
        undefined,
        `?repository=${big}&page.size=7&page.token=${first.next_page_token}`,
      )
    ).json();
    expect(second.repository_packages[0].name).toBe("pkg000007");
    const huge = (
      await get("/repository/package:list", { repository: big, page: { size: 1_000_000 } })
    ).json();
    expect(huge.repository_packages).toHaveLength(total);
    expect(huge.next_page_token).toBeUndefined();
  });

  it("refuses a token that is not one of this list's (400), and a bad size", async () => {
    const logsToken = (await get("/repository/logs", { repository: big, page: { size: 1 } })).json()
      .next_page_token;
    for (const bad of ["garbage!", logsToken]) {
      const res = await get("/repository/package:list", { repository: big, page: { token: bad } });
      expect(res.statusCode).toBe(400);
      expect(res.json().error.message).toMatch(/^page\.token: /);
    }
    const res = await get("/repository/package:list", { repository: big, page: { size: -1 } });
    expect(res.statusCode).toBe(400);
  });

  it("logs: pages, oldest first", async () => {
    const lines: string[] = [];
    let next: string | undefined;
    do {
      const body = (await get("/repository/logs", { repository: big, page: { token: next } })).json();
      lines.push(...body.logs.map((l: { message: string }) => l.message));
      next = body.next_page_token;
    } while (next);
    expect(lines).toHaveLength(1_205);
    expect(lines[0]).toBe("line 0");
    expect(lines.at(-1)).toBe("line 1204");
  });

  it("repository:list: pages by name", async () => {
    const first = (await get("/repository:list", { page: { size: 4 } })).json();
    expect(first.repositories.map((r: { repository: string }) => r.repository)).toEqual([
      big,
      "artifacts/yum/r0",
      "artifacts/yum/r1",
      "artifacts/yum/r2",
    ]);
    const second = (
      await get("/repository:list", { page: { size: 4, token: first.next_page_token } })
    ).json();
    expect(second.repositories.map((r: { repository: string }) => r.repository)).toEqual([
      "artifacts/yum/r3",
      "artifacts/yum/r4",
    ]);
    expect(second.next_page_token).toBeUndefined();
  });

  it("the CLI follows next_page_token to the end (packages, logs, repo list)", async () => {
    const client = {
      call: async (_method: string, path: string, body: Record<string, unknown>) => {
        const query = new URLSearchParams(body as Record<string, string>);
        return (await get(path, undefined, `?${query}`)).json();
      },
    } as unknown as AdminClient;
    let packages = 0;
    for await (const _ of allPages(
      client,
      "/repository/package:list",
      { repository: big },
      "repository_packages",
    ))
      packages++;
    expect(packages).toBe(total);
    let logs = 0;
    for await (const _ of allPages(client, "/repository/logs", { repository: big }, "logs")) logs++;
    expect(logs).toBe(1_205);
    let repositories = 0;
    for await (const _ of allPages(client, "/repository:list", {}, "repositories")) repositories++;
    expect(repositories).toBe(6);
  });
});
