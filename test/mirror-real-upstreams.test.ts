import { cpSync, readFileSync } from "node:fs";
import { basename, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fetchPrimary } from "./harness/repodata-client.js";
import { type Stack, startStack } from "./harness/stack.js";
import { makeTlsMaterial, startTlsUpstream } from "./harness/tls-upstream.js";
import { rockyTestdata, startUpstream } from "./harness/upstream.js";
import { makeDnf } from "./support/dnf.js";
import { type Nginx, startNginx } from "./support/nginx.js";
import { startPythonHttpServer } from "./support/python-http.js";
import { startTinyproxy } from "./support/tinyproxy.js";
import { cleanupTempDirs, makeTempDir } from "./support/tmp.js";

// The mirror against upstreams nobody on this project wrote: Debian's python3 http.server (HTTP/1.0,
// closes after every response), nginx closing keep-alive connections after two requests, nginx
// redirecting like a CDN (two hops, to another port), tinyproxy in front of the upstream (the
// repository's proxy_url, and HTTPS_PROXY through a CONNECT tunnel), and a server that answers 429
// with Retry-After before serving. Through each, the Rocky test data must arrive byte for byte and
// dnf with gpgcheck must install from the mirror.

const rockyKey = join(rockyTestdata, "RPM-GPG-KEY-rockyofficial");
const gpgKey = Buffer.from(readFileSync(rockyKey, "utf8")).toString("base64");

describe("mirror of real upstreams", () => {
  let stack: Stack;
  /** `<root>/rocky/` is the Rocky test repository, as every upstream below serves it. */
  let root: string;
  const stops: Array<() => Promise<void>> = [];

  beforeAll(async () => {
    root = makeTempDir("real-upstreams");
    cpSync(rockyTestdata, join(root, "rocky"), { recursive: true });
    stack = await startStack({ name: "real-upstreams", env: { BESKARYUM_SYNC_TIMEOUT_MS: "10000" } });
  });
  afterAll(async () => {
    if (process.env.BESKARYUM_TEST_SHOW_LOGS) console.log(stack?.workers.map((w) => w.output()).join("\n"));
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    await stack?.stop();
    await cleanupTempDirs();
  });

  const nginx = async (config?: string): Promise<Nginx> => {
    const server = await startNginx({ root, ...(config ? { config } : {}) });
    stops.push(() => server.stop());
    return server;
  };

  /**
   * Mirrors `urls` into a new repository on `on`, syncs it, and checks what a client gets: every
   * package byte-identical to Rocky's, and dnf with gpgcheck=1 installing one of them.
   */
  async function mirrorAndInstall(
    on: Stack,
    name: string,
    urls: string[],
    extra: Record<string, unknown> = {},
  ): Promise<string> {
    const repository = `artifacts/yum/real-${name}`;
    const properties = { mirror: true, mirror_urls: urls, gpg_key: gpgKey, ...extra };
    const created = await on.call("POST", "/repository", { repository, properties });
    expect(created.status, JSON.stringify(created.json)).toBe(200);
    const synced = await on.call("GET", "/repository/sync", { repository, wait: true });
    const state = (await on.call("GET", "/repository/sync:status", { repository })).json.sync_status;
    expect(synced.status, `${JSON.stringify(synced.json)} ${JSON.stringify(state)}`).toBe(200);
    expect(state).toMatchObject({ syncing: false, sync_error: "", total_packages: 27, synced_packages: 27 });

    const primary = await fetchPrimary(on.repoUrl(repository));
    expect(primary.packages).toHaveLength(27);
    for (const pkg of primary.packages) {
      const served = Buffer.from(await (await fetch(`${on.repoUrl(repository)}${pkg.href}`)).arrayBuffer());
      const original = readFileSync(join(rockyTestdata, "Packages", basename(pkg.href)));
      expect(served.equals(original), pkg.href).toBe(true);
    }
    const dnf = makeDnf(on.repoUrl(repository), { gpgkey: `file://${rockyKey}` });
    await dnf.install(["booth-debugsource"]);
    expect(await dnf.installed()).toContain("booth-debugsource-1.0-6.ac1d34c.git.el8.2.x86_64");
    return repository;
  }

  it("through python3 -m http.server (HTTP/1.0, a closed connection after every response)", async () => {
    const server = await startPythonHttpServer(root);
    stops.push(() => server.stop());
    await mirrorAndInstall(stack, "python", [`${server.url}rocky/`]);
    // The worker that did it is still alive.
    expect(() => process.kill(stack.workers[0]!.pid, 0)).not.toThrow();
  });

  it("through nginx closing keep-alive connections after two requests", async () => {
    const server = await nginx("keepalive_requests 2;");
    await mirrorAndInstall(stack, "keepalive", [`${server.url}rocky/`]);
  });

  it("through nginx redirecting to a second nginx like a CDN, packages over two hops, credentials kept home", async () => {
    const cdn = await nginx();
    const origin = await nginx(
      [
        // Metadata: one hop to the CDN.
        `location /rocky/repodata/ { return 302 http://127.0.0.1:${cdn.port}$request_uri; }`,
        // Packages: a hop on the origin, then one to the CDN.
        "location ~ ^/rocky/Packages/(.*)$ { return 301 /edge/Packages/$1; }",
        `location ~ ^/edge/Packages/(.*)$ { return 307 http://127.0.0.1:${cdn.port}/rocky/Packages/$1; }`,
      ].join("\n"),
    );
    const withCredentials = origin.url.replace("http://", "http://mirror-user:s3cret@");
    await mirrorAndInstall(stack, "redirect", [`${withCredentials}rocky/`]);

    const originLog = origin.log();
    const cdnLog = cdn.log();
    expect(originLog).toMatch(/GET \/rocky\/repodata\/repomd\.xml 302 .* auth=Basic /);
    expect(originLog).toMatch(/GET \/rocky\/Packages\/\S+\.rpm 301 /);
    expect(originLog).toMatch(/GET \/edge\/Packages\/\S+\.rpm 307 /);
    expect(cdnLog).toMatch(/GET \/rocky\/Packages\/\S+\.rpm 200 /);
    // The CDN is another origin: it never saw the credentials.
    expect(cdnLog).not.toContain("auth=Basic");
    expect(cdnLog.split("\n").filter((l) => l.includes(".rpm 200")).length).toBeGreaterThanOrEqual(27);
  });

  it("through tinyproxy set as the repository's proxy_url, with its password redacted", async () => {
    const upstream = await nginx();
    const proxy = await startTinyproxy({ basicAuth: { user: "proxyuser", pass: "proxypass" } });
    stops.push(() => proxy.stop());
    const repository = await mirrorAndInstall(stack, "proxy", [`${upstream.url}rocky/`], {
      proxy_url: proxy.url,
    });
    expect(proxy.log()).toMatch(/rocky\/repodata\/repomd\.xml/);
    expect(proxy.log()).toMatch(/rocky\/Packages\/booth-debugsource/);
    const { properties } = (await stack.call("GET", "/repository", { repository })).json;
    expect(properties.proxy_url).toBeDefined();
    expect(JSON.stringify(properties)).not.toContain("proxypass");
  });

  it("through HTTPS_PROXY: a CONNECT tunnel to an HTTPS upstream that wants a client certificate", async () => {
    const proxy = await startTinyproxy();
    stops.push(() => proxy.stop());
    const tls = await makeTlsMaterial();
    const upstream = await startTlsUpstream(join(root, "rocky"), tls);
    stops.push(() => upstream.close());
    const proxied = await startStack({
      name: "real-upstreams-env-proxy",
      env: { HTTPS_PROXY: proxy.url, NO_PROXY: "example.invalid" },
    });
    stops.push(() => proxied.stop());
    await mirrorAndInstall(proxied, "https-proxy", [upstream.url], {
      tls_ca: tls.ca,
      tls_cert: tls.clientCert,
      tls_key: tls.clientKey,
    });
    expect(proxy.log()).toMatch(/CONNECT/);
  });

  it("through an upstream that answers 429 with Retry-After: 1 twice before serving", async () => {
    const refusals = new Map<string, number>();
    const upstream = await startUpstream(
      { rocky: rockyTestdata },
      {
        intercept: (_req, res, path) => {
          const limited = path.endsWith("repomd.xml") || path.includes("booth-debugsource");
          const count = refusals.get(path) ?? 0;
          if (!limited || count >= 2) return false;
          refusals.set(path, count + 1);
          res.writeHead(429, { "retry-after": "1", "content-type": "text/plain" }).end("slow down\n");
          return true;
        },
      },
    );
    stops.push(() => upstream.server.close());
    await mirrorAndInstall(stack, "ratelimit", [upstream.url("rocky")]);
    const asked = (suffix: string) => upstream.server.requests.filter((r) => r.path.endsWith(suffix)).length;
    // Two refusals, then the answer; and nothing was given up on.
    expect(asked("/rocky/repodata/repomd.xml")).toBeGreaterThanOrEqual(3);
    expect(asked("booth-debugsource-1.0-6.ac1d34c.git.el8.2.x86_64.rpm")).toBeGreaterThanOrEqual(3);
  });
});
