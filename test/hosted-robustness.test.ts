import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fetchPrimary, missingRepodataFiles } from "./harness/repodata-client.js";
import { type Stack, startStack } from "./harness/stack.js";
import { makeDnf } from "./support/dnf.js";
import { redisUrl } from "./support/redis.js";
import { buildRpms, manyFixtures, standardFixtures } from "./support/rpm-fixtures.js";
import { cleanupTempDirs, makeTempDir } from "./support/tmp.js";

const rockyRpm = new URL(
  "./fixtures/rocky-8.3-ha-debug/Packages/booth-debugsource-1.0-6.ac1d34c.git.el8.2.x86_64.rpm",
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
    for (let i = 0; i < 16; i++) bytes[6000 + i * 7] = bytes[6000 + i * 7]! ^ 0x5a;
    writeFileSync(corrupted, bytes);

    const cases: [string, string, RegExp][] = [
      [
        truncated,
        "RPM_TRUNCATED",
        /^truncated\.rpm: truncated RPM: .* needs \d+ bytes .* only \d+ available$/,
      ],
      [
        text,
        "RPM_BAD_MAGIC",
        /^text\.rpm: not an RPM: lead magic at offset 0 is 74686973, expected edabeedb$/,
      ],
      [corrupted, "RPM_DIGEST_MISMATCH", /^corrupted\.rpm: main header SHA256 digest mismatch/],
    ];
    for (const [file, reason, message] of cases) {
      const { status, json } = await stack.upload(repo, file);
      expect(status, `${file}: ${JSON.stringify(json)}`).toBe(400);
      expect(json.error).toMatchObject({ code: "InvalidArgument", reason });
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

  it("treats identical bytes as a no-op and a rebuilt package with the same NEVRA as a replacement", async () => {
    const repo = "artifacts/yum/robust-replace";
    const spec = { name: "yumtest-replace", version: "1.0", release: "1", arch: "noarch" as const };
    const [first] = await buildRpms([spec], makeTempDir("replace-a"));
    // rpmbuild stamps the build time into the header: a second build is a different file, same NEVRA.
    await new Promise((r) => setTimeout(r, 1100));
    const [second] = await buildRpms([spec], makeTempDir("replace-b"));
    const a = await stack.upload(repo, first!, { wait: true });
    expect(a.status).toBe(201);
    const before = await fetchPrimary(stack.repoUrl(repo));
    expect((await stack.upload(repo, first!, { wait: true })).status).toBe(201);
    expect((await fetchPrimary(stack.repoUrl(repo))).revision).toBe(before.revision);

    const b = await stack.upload(repo, second!, { wait: true });
    expect(b.status).toBe(201);
    expect(b.json.tag).toBe(a.json.tag);
    expect(b.json.id).not.toBe(a.json.id);
    const after = await fetchPrimary(stack.repoUrl(repo));
    expect(after.packages.map((p) => p.pkgid)).toEqual([b.json.id]);
    const list = await stack.call("GET", "/repository/package:list", { repository: repo });
    expect(list.json.repository_packages.map((p: any) => p.id)).toEqual([b.json.id]);
  });

  it("processes events stored while no worker ran, even after their triggers were flushed", async () => {
    const repo = "artifacts/yum/robust-offline";
    for (const worker of stack.workers.splice(0)) await worker.stop();
    const results = await Promise.all(fixtures.map((rpm) => stack.upload(repo, rpm)));
    expect(results.map((r) => r.status)).toEqual(fixtures.map(() => 202));
    const redis = new Redis(redisUrl());
    try {
      const keys = await redis.keys(`${stack.prefix}:*`);
      if (keys.length > 0) await redis.del(...keys);
    } finally {
      redis.disconnect();
    }
    await stack.startWorker();
    await stack.startWorker();
    const deadline = Date.now() + 30_000;
    let count = 0;
    while (Date.now() < deadline && count < fixtures.length) {
      count = await fetchPrimary(stack.repoUrl(repo))
        .then((p) => p.packages.length)
        .catch(() => 0);
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(count).toBe(fixtures.length);
  });

  it("keeps a removed package fetchable for clients still on the previous repodata generation", async () => {
    const repo = "artifacts/yum/robust-retire";
    const up = await stack.upload(repo, fixtures[2]!, { wait: true });
    expect(up.status).toBe(201);
    const [pkg] = (await fetchPrimary(stack.repoUrl(repo))).packages;
    const removed = await stack.call("DELETE", "/repository/package:bytag", {
      repository: repo,
      tag: up.json.tag,
    });
    expect(removed.status).toBe(200);
    const deadline = Date.now() + 10_000;
    while ((await fetchPrimary(stack.repoUrl(repo))).packages.length > 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
    }
    expect((await fetchPrimary(stack.repoUrl(repo))).packages).toEqual([]);
    const old = await fetch(`${stack.repoUrl(repo)}${pkg!.href}`);
    expect(old.status).toBe(200);
    expect(old.headers.get("etag")).toBe(`"${pkg!.pkgid}"`);
    expect((await fetch(`${stack.repoUrl(repo)}Packages/n/never-1-1.noarch.rpm`)).status).toBe(404);
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
