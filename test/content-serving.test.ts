import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { Agent, request } from "node:http";
import { join } from "node:path";
import { parseRepomd } from "@beskar-yum/repodata";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Stack, startStack } from "./harness/stack.js";
import { cleanupTempDirs } from "./support/tmp.js";

const rockyDir = new URL("./fixtures/rocky-8.3-ha-debug/Packages/", import.meta.url).pathname;
const rockyRpms = readdirSync(rockyDir)
  .filter((f) => f.endsWith(".rpm"))
  .sort();

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** Keep-alive connections spread over the cluster's workers (round robin by connection). */
const agent = new Agent({ keepAlive: true, maxSockets: 8 });

function get(url: string, headers: Record<string, string> = {}, method = "GET"): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () =>
        resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }),
      );
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end();
  });
}

/**
 * Content served by the API with `http.workers: 2` (node:cluster) and its content cache: the same
 * answers (validators, conditional requests, ranges, HEAD, lengths) whether a request is the first
 * for its URL (the fastify route) or a later one (answered from memory), and never a repomd.xml
 * older than one already served once a publish switched the generation.
 */
describe("content serving (cluster of 2 API processes, content cache)", () => {
  let stack: Stack;
  const repo = "artifacts/yum/serving";
  let base: string;

  beforeAll(async () => {
    stack = await startStack({ name: "content-serving", env: { BESKARYUM_HTTP_WORKERS: "2" } });
    base = stack.repoUrl(repo);
    expect((await stack.call("POST", "/repository", { repository: repo, properties: {} })).status).toBe(200);
    for (const rpm of rockyRpms.slice(0, 3)) {
      const { status } = await stack.upload(repo, join(rockyDir, rpm), { wait: true });
      expect(status).toBe(201);
    }
  });
  afterAll(async () => {
    agent.destroy();
    await stack?.stop();
    await cleanupTempDirs();
  });

  it("runs two API processes behind one port and sums their metrics", async () => {
    expect(stack.api.output()).toMatch(/"workers":2.*"msg":"api listening"/);
    expect(stack.api.output().match(/"msg":"api worker listening"/g)).toHaveLength(2);
    // Whichever process answers /metrics, it counts the uploads every process took.
    for (let i = 0; i < 8; i++) {
      const metrics = await get(`${stack.url}/metrics`);
      expect(metrics.status).toBe(200);
      const text = metrics.body.toString("utf8");
      expect(text).toMatch(
        /beskaryum_http_request_duration_seconds_count\{family="packages",method="PUT",status_class="2xx"\} 3/,
      );
      // Read from the index by the one process that answers: not summed over the workers.
      expect(
        text.match(/^beskaryum_repository_packages\{repository="artifacts\/yum\/serving"\} \d+$/gm),
      ).toEqual(['beskaryum_repository_packages{repository="artifacts/yum/serving"} 3']);
    }
  });

  it("answers repomd.xml the same from the route and from the cache: length, validators, 304, ranges, HEAD", async () => {
    const url = `${base}repodata/repomd.xml`;
    const answers = await Promise.all(Array.from({ length: 12 }, () => get(url)));
    const first = answers[0]!;
    expect(first.status).toBe(200);
    for (const a of answers) {
      expect(a.status).toBe(200);
      expect(a.body).toEqual(first.body);
      for (const h of ["etag", "last-modified", "content-type", "content-length", "accept-ranges"])
        expect(a.headers[h], h).toBe(first.headers[h]);
    }
    expect(Number(first.headers["content-length"])).toBe(first.body.length);
    expect(first.headers.etag).toBe(`"${createHash("sha256").update(first.body).digest("hex")}"`);
    const etag = first.headers.etag as string;
    const lastModified = first.headers["last-modified"] as string;

    for (let i = 0; i < 4; i++) {
      const cached = await get(url, { "if-none-match": etag });
      expect(cached.status).toBe(304);
      expect(cached.body.length).toBe(0);
      expect(cached.headers.etag).toBe(etag);
      expect((await get(url, { "if-none-match": `"other", ${etag}` })).status).toBe(304);
      expect((await get(url, { "if-none-match": '"other"' })).status).toBe(200);
      expect((await get(url, { "if-modified-since": lastModified })).status).toBe(304);
      expect((await get(url, { "if-modified-since": new Date(0).toUTCString() })).status).toBe(200);
      const head = await get(url, {}, "HEAD");
      expect(head.status).toBe(200);
      expect(head.body.length).toBe(0);
      expect(head.headers["content-length"]).toBe(String(first.body.length));
      expect(head.headers.etag).toBe(etag);
      const ranged = await get(url, { range: "bytes=10-19" });
      expect(ranged.status).toBe(206);
      expect(ranged.headers["content-range"]).toBe(`bytes 10-19/${first.body.length}`);
      expect(ranged.body).toEqual(first.body.subarray(10, 20));
      const stale = await get(url, { range: "bytes=10-19", "if-range": '"other"' });
      expect(stale.status).toBe(200);
      expect(stale.body).toEqual(first.body);
      expect((await get(url, { range: `bytes=${first.body.length}-` })).status).toBe(416);
    }
    // Most of these were answered from memory (ranges are the route's).
    const metrics = (await get(`${stack.url}/metrics`)).body.toString("utf8");
    const hits = Number(/^beskaryum_content_cache_hits_total (\d+)/m.exec(metrics)?.[1]);
    expect(hits).toBeGreaterThan(20);
  });

  it("answers data files and packages byte for byte, with their digests as ETags", async () => {
    const repomd = parseRepomd((await get(`${base}repodata/repomd.xml`)).body.toString("utf8"));
    for (const record of repomd.records) {
      for (let i = 0; i < 3; i++) {
        const file = await get(`${base}${record.location}`);
        expect(file.status).toBe(200);
        expect(Number(file.headers["content-length"])).toBe(file.body.length);
        expect(createHash("sha256").update(file.body).digest("hex")).toBe(record.checksum.value);
      }
    }
    const rpm = rockyRpms[0]!;
    const bytes = readFileSync(join(rockyDir, rpm));
    const digest = createHash("sha256").update(bytes).digest("hex");
    for (let i = 0; i < 6; i++) {
      const pkg = await get(`${base}Packages/${rpm}`);
      expect(pkg.status).toBe(200);
      expect(pkg.headers["content-type"]).toBe("application/x-rpm");
      expect(pkg.headers["content-length"]).toBe(String(bytes.length));
      expect(pkg.headers.etag).toBe(`"${digest}"`);
      expect(pkg.body.equals(bytes)).toBe(true);
      expect((await get(`${base}Packages/${rpm}`, { "if-none-match": `"${digest}"` })).status).toBe(304);
      const head = await get(`${base}Packages/${rpm}`, {}, "HEAD");
      expect(head.headers["content-length"]).toBe(String(bytes.length));
      expect(head.body.length).toBe(0);
      const tail = await get(`${base}Packages/${rpm}`, { range: "bytes=-100" });
      expect(tail.status).toBe(206);
      expect(tail.body).toEqual(bytes.subarray(bytes.length - 100));
    }
    expect((await get(`${base}Packages/no-such-1.0-1.noarch.rpm`)).status).toBe(404);
    expect((await get(`${base}repodata/not-listed-primary.xml.gz`)).status).toBe(404);
  });

  it("changes the ETag with each publish and never serves a repomd.xml older than one already served", async () => {
    const url = `${base}repodata/repomd.xml`;
    /** Every repomd.xml answered, with when its request started and ended. */
    const seen: { start: number; end: number; etag: string; body: string }[] = [];
    let running = true;
    const readers = Array.from({ length: 6 }, async () => {
      while (running) {
        const start = performance.now();
        const answer = await get(url);
        const end = performance.now();
        expect(answer.status).toBe(200);
        seen.push({ start, end, etag: answer.headers.etag as string, body: answer.body.toString("utf8") });
      }
    });
    const initialStart = performance.now();
    const initial = await get(url);
    seen.push({
      start: initialStart,
      end: performance.now(),
      etag: initial.headers.etag as string,
      body: "",
    });
    const etags: string[] = [initial.headers.etag as string];
    try {
      for (const rpm of rockyRpms.slice(3, 9)) {
        const { status } = await stack.upload(repo, join(rockyDir, rpm), { wait: true });
        expect(status).toBe(201);
        // Published before the 201: the very next request, whichever process answers it, has it.
        const previous = etags.at(-1);
        for (let i = 0; i < 4; i++) {
          const start = performance.now();
          const now = await get(url);
          seen.push({ start, end: performance.now(), etag: now.headers.etag as string, body: "" });
          expect(now.headers.etag).not.toBe(previous);
          if (i === 0) etags.push(now.headers.etag as string);
          else expect(now.headers.etag).toBe(etags.at(-1));
        }
      }
    } finally {
      running = false;
      await Promise.all(readers);
    }
    expect(new Set(etags).size).toBe(etags.length);
    // Generations in the order they were published (first seen: each was served before the next
    // one was committed); no answer older than one that ended before it started.
    const generation = new Map<string, number>();
    for (const a of [...seen].sort((x, y) => x.end - y.end))
      if (!generation.has(a.etag)) generation.set(a.etag, generation.size);
    expect([...generation.keys()].filter((e) => etags.includes(e))).toEqual(etags);
    const byStart = [...seen].sort((x, y) => x.start - y.start);
    const byEnd = [...seen].sort((x, y) => x.end - y.end);
    let newestEnded = -1;
    let ended = 0;
    for (const answer of byStart) {
      while (ended < byEnd.length && byEnd[ended]!.end < answer.start) {
        newestEnded = Math.max(newestEnded, generation.get(byEnd[ended]!.etag)!);
        ended++;
      }
      expect(generation.get(answer.etag)!, "an older repomd.xml after a newer one").toBeGreaterThanOrEqual(
        newestEnded,
      );
    }
    expect(seen.length).toBeGreaterThan(50);
    // Every data file the newest repomd.xml lists is served and matches it.
    const newest = parseRepomd((await get(url)).body.toString("utf8"));
    for (const record of newest.records) {
      const file = await get(`${base}${record.location}`);
      expect(createHash("sha256").update(file.body).digest("hex")).toBe(record.checksum.value);
    }
  });
});
