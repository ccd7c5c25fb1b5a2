import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fetchPrimary, missingRepodataFiles } from "./harness/repodata-client.js";
import { type Stack, startStack } from "./harness/stack.js";
import { makeDnf } from "./support/dnf.js";
import { redisUrl } from "./support/redis.js";
import { manyFixtures, standardFixtures } from "./support/rpm-fixtures.js";
import { cleanupTempDirs, makeTempDir } from "./support/tmp.js";

const rockyRpm = new URL(
  "../../shared/testdata/rocky-8.3-ha-debug/Packages/booth-debugsource-1.0-6.ac1d34c.git.el8.2.x86_64.rpm",
  import.meta.url,
).pathname;

describe("hosted repository under bad input, concurrency and a Redis flush", () => {
  let stack: Stack;
  let fixtures: string[];
  beforeAll(async () => {
    stack = await startStack({ name: "robust", workers: 2 });
    fixtures = (await standardFixtures(makeTempDir("robust-fixtures"))).all;
  });
  afterAll(async () => {
    await stack?.stop();
    await cleanupTempDirs();
  });

  it("refuses a truncated RPM, a text file and a corrupted header with 400, and keeps serving", async () => {
    const repo = "artifacts/yum/robust-bad";
    expect((await stack.upload(repo, fixtures[0]!, { wait: true })).status).toBe(201);
    const repomdBefore = await (await fetch(`${stack.repoUrl(repo)}repodata/repomd.xml`)).text();

    const dir = makeTempDir("bad-rpms");
    const good = readFileSync(rockyRpm);
    const truncated = join(dir, "truncated.rpm");
    writeFileSync(truncated, good.subarray(0, 3000));
    const text = join(dir, "text.rpm");
    writeFileSync(text, "this is not an rpm\n".repeat(20));
    const corrupted = join(dir, "corrupted.rpm");
    const bytes = Buffer.from(good);
    // Flip bytes well inside the main header's data store (after lead + signature header).
    for (let i = 0; i < 16; i++) bytes[6000 + i * 7] ^= 0x5a;
    writeFileSync(corrupted, bytes);

    const cases: [string, RegExp][] = [
      [truncated, /truncat/i],
      [text, /not an RPM|magic/i],
      [corrupted, /digest|header|corrupt/i],
    ];
    for (const [file, message] of cases) {
      const { status, json } = await stack.upload(repo, file);
      expect(status, `${file}: ${JSON.stringify(json)}`).toBe(400);
      expect(json.error.code).toBe("InvalidArgument");
      expect(json.error.message).toMatch(message);
    }
    const repomdAfter = await (await fetch(`${stack.repoUrl(repo)}repodata/repomd.xml`)).text();
    expect(repomdAfter).toBe(repomdBefore);
    expect(await missingRepodataFiles(stack.repoUrl(repo))).toEqual([]);
    const list = await stack.call("GET", "/repository/package:list", { repository: repo });
    expect(list.json.repository_packages).toHaveLength(1);
    await makeDnf(stack.repoUrl(repo)).makecache();
  });

  it("publishes all of 50 concurrent uploads exactly once with two workers, never naming a missing file", async () => {
    const repo = "artifacts/yum/robust-burst";
    const rpms = await manyFixtures(makeTempDir("burst"), 50);
    expect(rpms).toHaveLength(50);
    expect((await stack.call("POST", "/repository", { repository: repo, properties: {} })).status).toBe(200);

    let polling = true;
    const problems: string[] = [];
    let polls = 0;
    const poller = (async () => {
      while (polling) {
        problems.push(...(await missingRepodataFiles(stack.repoUrl(repo))));
        polls++;
      }
    })();

    const results = await Promise.all(rpms.map((rpm) => stack.upload(repo, rpm)));
    expect(results.map((r) => r.status)).toEqual(rpms.map(() => 202));
    const deadline = Date.now() + 60_000;
    let names: string[] = [];
    while (Date.now() < deadline) {
      names = (await fetchPrimary(stack.repoUrl(repo))).packages.map((p) => p.name);
      if (names.length >= 50) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    polling = false;
    await poller;
    expect(names).toHaveLength(50);
    expect(new Set(names).size).toBe(50);
    expect(problems).toEqual([]);
    expect(polls).toBeGreaterThan(3);
    // Both workers took part in the burst or at least stayed healthy.
    for (const worker of stack.workers) expect(worker.output()).not.toMatch(/"level":50/);
  });

  it("keeps serving and accepting uploads after a flush of its Redis keys", async () => {
    const repo = "artifacts/yum/robust-flush";
    expect((await stack.upload(repo, fixtures[0]!, { wait: true })).status).toBe(201);
    const redis = new Redis(redisUrl());
    try {
      const keys = await redis.keys(`${stack.prefix}:*`);
      expect(keys.length).toBeGreaterThan(0);
      await redis.del(...keys);
      expect(await redis.keys(`${stack.prefix}:*`)).toEqual([]);
    } finally {
      redis.disconnect();
    }
    expect((await fetchPrimary(stack.repoUrl(repo))).packages).toHaveLength(1);
    const { status, json } = await stack.upload(repo, fixtures[1]!, { wait: true });
    expect(status, JSON.stringify(json)).toBe(201);
    expect((await fetchPrimary(stack.repoUrl(repo))).packages).toHaveLength(2);
    await makeDnf(stack.repoUrl(repo)).makecache();
  });

  it("rejects uploads without the admin token", async () => {
    const response = await fetch(`${stack.url}/artifacts/yum/robust-auth/repo/Packages/x.rpm`, {
      method: "PUT",
      body: "x",
    });
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ error: { code: "Unauthenticated" } });
  });
});
