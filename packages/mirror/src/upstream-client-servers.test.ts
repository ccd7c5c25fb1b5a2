import { createHash, randomBytes } from "node:crypto";
import { closeSync, mkdirSync, openSync, writeFileSync, writeSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { type AddressInfo, createServer as createTcpServer, type Server as TcpServer } from "node:net";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { FsBlobStore } from "@beskar-yum/storage";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startNginx } from "../../../test/support/nginx.js";
import { stopAll } from "../../../test/support/processes.js";
import { startPythonHttpServer } from "../../../test/support/python-http.js";
import { cleanupTempDirs, makeTempDir } from "../../../test/support/tmp.js";
import { UpstreamClient, type UpstreamClientOptions } from "./upstream-client.js";

/** Upstream files on disk: small packages, a repomd.xml and one big file, with their sha256. */
interface Tree {
  root: string;
  packages: Array<{ href: string; data: Buffer; sha256: string }>;
  big: { href: string; size: number; sha256: string };
}

// A collector to measure what is retained, not what is garbage waiting for one.
setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

const sha256 = (data: Buffer) => createHash("sha256").update(data).digest("hex");

function makeTree(): Tree {
  const root = makeTempDir("upstream-");
  mkdirSync(join(root, "Packages"));
  mkdirSync(join(root, "repodata"));
  writeFileSync(
    join(root, "repodata/repomd.xml"),
    '<?xml version="1.0"?><repomd><revision>1</revision></repomd>\n',
  );
  const packages = Array.from({ length: 40 }, (_, i) => {
    const data = randomBytes(1024 + ((i * 7919) % 200) * 1024);
    const href = `Packages/p-${i}-1.0-1.noarch.rpm`;
    writeFileSync(join(root, href), data);
    return { href, data, sha256: sha256(data) };
  });
  // 56 MiB written a chunk at a time: the test process never holds the big file in memory.
  const size = 56 * 1024 * 1024;
  const hash = createHash("sha256");
  const fd = openSync(join(root, "big.bin"), "w");
  const chunk = randomBytes(1024 * 1024);
  for (let at = 0; at < size; at += chunk.length) {
    chunk[0] = at / chunk.length; // every MiB differs, so a reordered or repeated chunk shows
    hash.update(chunk);
    writeSync(fd, chunk);
  }
  closeSync(fd);
  return { root, packages, big: { href: "big.bin", size, sha256: hash.digest("hex") } };
}

const expectation = (p: Tree["packages"][number]) => ({
  size: p.data.length,
  checksum: { type: "sha256", value: p.sha256 },
});

const clients: UpstreamClient[] = [];
function client(urls: string[], logs: string[] = [], options: Partial<UpstreamClientOptions> = {}) {
  const c = new UpstreamClient({ urls, log: (m) => logs.push(m), backoffMs: 10, connections: 8, ...options });
  clients.push(c);
  return c;
}

const servers: Array<Server | TcpServer> = [];
/** A node server on 127.0.0.1 (fault injection and observation); its base URL. */
async function serve(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<string> {
  const server = createServer(handler);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
}

/** A raw TCP server answering every connection with `answer` (garbage, HTTP/1.0 without length, ...). */
async function serveRaw(answer: (socket: import("node:net").Socket) => void): Promise<string> {
  const server = createTcpServer(answer);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
}

let tree: Tree;
beforeAll(() => {
  tree = makeTree();
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  for (const s of servers) {
    if ("closeAllConnections" in s) s.closeAllConnections();
    s.close();
  }
  await stopAll();
  await cleanupTempDirs();
});

describe("UpstreamClient against python3 -m http.server (HTTP/1.0, closes after each response)", () => {
  it("fetches repomd.xml, packages and a 56 MiB file read slowly, without crashing or buffering it", async () => {
    const python = await startPythonHttpServer(tree.root);
    const c = client([python.url]);
    expect(await c.text("repodata/repomd.xml", { maxBytes: 1024 ** 2 })).toContain("<revision>1</revision>");
    await Promise.all(
      tree.packages.map(async (p) => {
        const { data, digest } = await c.fetchVerified(p.href, expectation(p), 1024 ** 2);
        expect(digest).toBe(p.sha256);
        expect(data.equals(p.data)).toBe(true);
      }),
    );
    const blobs = new FsBlobStore(makeTempDir("blobs-"));
    const blob = await c.download(tree.packages[3]!.href, blobs, expectation(tree.packages[3]!), 1024 ** 2);
    expect(blob.digest).toBe(tree.packages[3]!.sha256);

    // The slow reader: 2 ms per chunk. What waits for it stays in the socket buffers, not in memory:
    // what the process holds (after a collection, so that chunks already read do not count) stays small.
    const retained = () => {
      gc();
      return process.memoryUsage().arrayBuffers;
    };
    const baseline = retained();
    let peak = 0;
    let chunks = 0;
    let maxBuffered = 0;
    const body = await c.stream(tree.big.href);
    const hash = createHash("sha256");
    let size = 0;
    for await (const chunk of body as AsyncIterable<Buffer>) {
      hash.update(chunk);
      size += chunk.length;
      maxBuffered = Math.max(maxBuffered, body.readableLength);
      if (++chunks % 64 === 0) peak = Math.max(peak, retained() - baseline);
      await sleep(2);
    }
    expect(size).toBe(tree.big.size);
    expect(hash.digest("hex")).toBe(tree.big.sha256);
    expect(maxBuffered).toBeLessThanOrEqual(1024 * 1024);
    // The body is 56 MiB: holding it would show; what does show is a few MiB of socket and parser buffers.
    expect(peak).toBeLessThan(16 * 1024 * 1024);
  });
});

describe("UpstreamClient against nginx", () => {
  it("fetches many files in a row over connections nginx closes every second request", async () => {
    const nginx = await startNginx({ root: tree.root, config: "keepalive_requests 2;" });
    const c = client([nginx.url], [], { connections: 2 });
    for (const p of tree.packages) {
      expect((await c.fetchVerified(p.href, expectation(p), 1024 ** 2)).digest).toBe(p.sha256);
    }
    // And in parallel, more requests than connections.
    await Promise.all(tree.packages.map((p) => c.fetchVerified(p.href, expectation(p), 1024 ** 2)));
    expect(nginx.log().match(/^GET \/Packages\/\S+ 200 /gm)).toHaveLength(80);
  });

  it("follows a 302 to another nginx and a relative 302 there, without taking the credentials along", async () => {
    const second = await startNginx({
      root: tree.root,
      // absolute_redirect off: the second hop's Location is relative (`/Packages/...`).
      config: "absolute_redirect off; location /hop/ { rewrite ^/hop(/.*)$ $1 redirect; }",
    });
    const first = await startNginx({
      root: tree.root,
      config: `location /Packages/ { return 302 http://127.0.0.1:${second.port}/hop$request_uri; }`,
    });
    const logs: string[] = [];
    const c = client([`http://mirror:s3cret@127.0.0.1:${first.port}/`], logs);
    expect(await c.text("repodata/repomd.xml", { maxBytes: 1024 })).toContain("<repomd>");
    for (const p of tree.packages.slice(0, 5)) {
      expect((await c.fetchVerified(p.href, expectation(p), 1024 ** 2)).data.equals(p.data)).toBe(true);
    }
    const p = tree.packages[6]!;
    const blob = await c.download(p.href, new FsBlobStore(makeTempDir("blobs-")), expectation(p), 1024 ** 2);
    expect(blob.digest).toBe(p.sha256);
    const { body, finalUrl } = await c.streamFrom(p.href);
    for await (const _ of body);
    expect(finalUrl).toBe(`http://127.0.0.1:${second.port}/${p.href}`);

    const basic = `Basic ${Buffer.from("mirror:s3cret").toString("base64")}`;
    expect(first.log()).toContain(`GET /repodata/repomd.xml 200 61 auth=${basic}`);
    expect(first.log()).toMatch(new RegExp(`^GET /Packages/\\S+ 302 \\d+ auth=${basic}$`, "m"));
    // Both hops on the second host: 2 requests per file, none with credentials.
    expect(second.log().match(/^GET /gm)).toHaveLength(2 * 7);
    expect(second.log()).not.toContain("Basic");
    expect(logs.join("\n")).toContain(
      `was served by 127.0.0.1:${second.port} (redirected from 127.0.0.1:${first.port})`,
    );
    expect(logs.join("\n")).not.toContain("s3cret");
  });
});

describe("UpstreamClient against faulty servers (no crash, clear errors)", () => {
  const p = () => tree.packages[0]!;

  it("waits as Retry-After asks (429 twice, then 200), within its bounds", async () => {
    const times: number[] = [];
    const url = await serve((_req, res) => {
      times.push(Date.now());
      if (times.length <= 2) res.writeHead(429, { "retry-after": "1" }).end("slow down");
      else res.end(p().data);
    });
    const logs: string[] = [];
    expect((await client([url], logs).fetchVerified(p().href, expectation(p()), 1024 ** 2)).digest).toBe(
      p().sha256,
    );
    expect(times).toHaveLength(3);
    expect(times[1]! - times[0]!).toBeGreaterThanOrEqual(950);
    expect(times[2]! - times[1]!).toBeGreaterThanOrEqual(950);
    expect(logs.join("\n")).toMatch(/asks to retry Packages\/p-0-1\.0-1\.noarch\.rpm in 1 s \(HTTP 429\)/);

    // Longer than we wait: fails at once; asked too often: fails after `rateLimitRetries` waits.
    const busy = await serve((_req, res) => res.writeHead(503, { "retry-after": "120" }).end());
    const started = Date.now();
    await expect(client([busy]).fetchVerified(p().href, expectation(p()), 1024 ** 2)).rejects.toMatchObject({
      code: "UPSTREAM_RATE_LIMITED",
      message: expect.stringMatching(/HTTP 503 asks to retry after 120 s, more than the 60 s we wait/),
    });
    expect(Date.now() - started).toBeLessThan(1000);
    const always = await serve((_req, res) => res.writeHead(429, { "retry-after": "0" }).end());
    await expect(
      client([always], [], { rateLimitRetries: 3 }).text("repodata/repomd.xml", { maxBytes: 1024 }),
    ).rejects.toMatchObject({
      code: "UPSTREAM_RATE_LIMITED",
      message: expect.stringMatching(/still HTTP 429 \(Retry-After\) after waiting 3 times/),
    });
  });

  it("retries a connection reset mid-body, and fails cleanly when it keeps happening", async () => {
    let n = 0;
    const resetFirst = (always: boolean) => (_req: IncomingMessage, res: ServerResponse) => {
      n++;
      res.writeHead(200, { "content-length": p().data.length });
      if (!always && n % 2 === 0) return void res.end(p().data);
      res.write(p().data.subarray(0, 512), () => res.socket?.resetAndDestroy());
    };
    const flaky = await serve(resetFirst(false));
    const logs: string[] = [];
    const c = client([flaky], logs);
    expect((await c.fetchVerified(p().href, expectation(p()), 1024 ** 2)).digest).toBe(p().sha256);
    const blob = await c.download(
      p().href,
      new FsBlobStore(makeTempDir("blobs-")),
      expectation(p()),
      1024 ** 2,
    );
    expect(blob.digest).toBe(p().sha256);
    expect(logs.join("\n")).toMatch(/retrying Packages\/p-0-1\.0-1\.noarch\.rpm on .* after: ECONNRESET/);

    const broken = client([await serve(resetFirst(true))]);
    await expect(broken.fetchVerified(p().href, expectation(p()), 1024 ** 2)).rejects.toMatchObject({
      code: "UPSTREAM_UNAVAILABLE",
      message: expect.stringMatching(/no mirror could serve .*ECONNRESET/),
    });
    await expect(
      broken.download(p().href, new FsBlobStore(makeTempDir("blobs-")), expectation(p()), 1024 ** 2),
    ).rejects.toMatchObject({ code: "UPSTREAM_UNAVAILABLE" });
    // A stream's consumer sees the reset as an error of the stream.
    const body = await broken.stream(p().href);
    await expect(
      (async () => {
        for await (const _ of body);
      })(),
    ).rejects.toMatchObject({ code: "ECONNRESET" });
  });

  it("follows 10 redirects and refuses the 11th with a clear error", async () => {
    const chain = (hops: number) => (req: IncomingMessage, res: ServerResponse) => {
      const at = Number(/^\/r(\d+)\//.exec(req.url ?? "")?.[1] ?? 0);
      if (at < hops) return void res.writeHead(307, { location: `/r${at + 1}/file` }).end();
      res.end(p().data);
    };
    const ten = client([await serve(chain(10))]);
    expect((await ten.fetchVerified("r0/file", expectation(p()), 1024 ** 2)).digest).toBe(p().sha256);
    const eleven = client([await serve(chain(11))]);
    await expect(eleven.fetchVerified("r0/file", expectation(p()), 1024 ** 2)).rejects.toMatchObject({
      code: "UPSTREAM_TOO_MANY_REDIRECTS",
      message: expect.stringMatching(/r0\/file: more than 10 redirects/),
    });
  });

  it("reads an HTTP/1.0 body that ends with the connection, and refuses garbage", async () => {
    const http10 = await serveRaw((socket) => {
      socket.once("data", () =>
        socket.end("HTTP/1.0 200 OK\r\nServer: old\r\n\r\nno length, ends with the connection\n"),
      );
    });
    expect(await client([http10]).text("x", { maxBytes: 1024 })).toBe(
      "no length, ends with the connection\n",
    );
    const garbage = await serveRaw((socket) => {
      socket.once("data", () => socket.end("SSH-2.0-OpenSSH_9.2\r\n\u0000\u0001 not http at all\r\n\r\n"));
    });
    await expect(client([garbage]).text("x", { maxBytes: 1024 })).rejects.toMatchObject({
      code: "UPSTREAM_UNAVAILABLE",
      message: expect.stringMatching(/no mirror could serve x: HPE_/),
    });
  });

  it("gives up on a server silent before its headers or in mid-body, but not on a slow reader", async () => {
    const silent = await serveRaw(() => undefined);
    await expect(
      client([silent], [], { timeoutMs: 300, attempts: 1 }).text("x", { maxBytes: 1024 }),
    ).rejects.toThrow(/headers timeout: no response from 127\.0\.0\.1:\d+ within 300 ms/);
    const stalls = await serve((_req, res) => {
      res.writeHead(200, { "content-length": 1000 });
      res.write(Buffer.alloc(100));
    });
    await expect(
      client([stalls], [], { timeoutMs: 300, attempts: 1 }).text("x", { maxBytes: 1024 }),
    ).rejects.toThrow(/body timeout: 127\.0\.0\.1:\d+ sent nothing for 300 ms/);

    // 8 MiB sent at once, read by a consumer that stops for 1 s (> timeoutMs): no timeout.
    const size = 8 * 1024 * 1024;
    const fast = await serve((_req, res) =>
      res.writeHead(200, { "content-length": size }).end(Buffer.alloc(size, 7)),
    );
    const body = await client([fast], [], { timeoutMs: 300, attempts: 1 }).stream("big");
    let read = 0;
    for await (const chunk of body as AsyncIterable<Buffer>) {
      if (read === 0) await sleep(1000);
      read += chunk.length;
    }
    expect(read).toBe(size);
  });

  it("opens at most `connections` connections to one host", async () => {
    let open = 0;
    let most = 0;
    const url = await serve((_req, res) => {
      open++;
      most = Math.max(most, open);
      setTimeout(() => {
        open--;
        res.end(p().data);
      }, 20);
    });
    const c = client([url], [], { connections: 3 });
    await Promise.all(
      Array.from({ length: 20 }, () => c.fetchVerified(p().href, expectation(p()), 1024 ** 2)),
    );
    expect(most).toBe(3);
  });

  it("stops at once when aborted while waiting for a Retry-After", async () => {
    const abort = new AbortController();
    const url = await serve((_req, res) => res.writeHead(429, { "retry-after": "30" }).end());
    const c = client([url], [], { signal: abort.signal });
    setTimeout(() => abort.abort(new Error("lock lost")), 200);
    const started = Date.now();
    await expect(c.text("x", { maxBytes: 10 })).rejects.toThrow("lock lost");
    expect(Date.now() - started).toBeLessThan(2000);
  });
});

describe("UpstreamClient.document", () => {
  it("GETs an absolute URL with its query string, follows redirects and says where it ended", async () => {
    const seen: Array<{ url: string; auth: string | undefined }> = [];
    const other = await serve((req, res) => {
      seen.push({ url: req.url!, auth: req.headers.authorization });
      res.end("<metalink/>");
    });
    const first = await serve((req, res) => {
      seen.push({ url: req.url!, auth: req.headers.authorization });
      res.writeHead(302, { location: `${other}ml?moved=1` }).end();
    });
    const c = client(["http://127.0.0.1:1/unused/"]);
    const url = `${first.replace("http://", "http://u:pw@")}metalink?repo=baseos-9&arch=x86_64`;
    expect(await c.document(url, { maxBytes: 1024 })).toEqual({
      text: "<metalink/>",
      finalUrl: `${other}ml?moved=1`,
    });
    expect(seen).toEqual([
      { url: "/metalink?repo=baseos-9&arch=x86_64", auth: `Basic ${Buffer.from("u:pw").toString("base64")}` },
      { url: "/ml?moved=1", auth: undefined },
    ]);
    await expect(c.document(`${other}x`, { maxBytes: 4 })).rejects.toMatchObject({
      code: "UPSTREAM_SIZE_MISMATCH",
    });
  });
});
