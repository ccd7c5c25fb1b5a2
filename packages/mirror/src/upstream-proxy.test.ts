import { execFileSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import type { TLSSocket } from "node:tls";
import { loadConfig } from "@beskar-yum/config";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Nginx, startNginx } from "../../../test/support/nginx.js";
import { stopAll } from "../../../test/support/processes.js";
import { startTinyproxy } from "../../../test/support/tinyproxy.js";
import { cleanupTempDirs, makeTempDir } from "../../../test/support/tmp.js";
import { UpstreamClient, type UpstreamClientOptions } from "./upstream-client.js";

const data = randomBytes(64 * 1024);
const expected = {
  size: data.length,
  checksum: { type: "sha256", value: createHash("sha256").update(data).digest("hex") },
};
const href = "Packages/a-1-1.noarch.rpm";

/** A private CA, a server certificate for 127.0.0.1 and a client certificate, made with openssl. */
interface Pki {
  ca: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
}

function makePki(): Pki {
  const dir = makeTempDir("pki-");
  const ssl = (...args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: "pipe" });
  const key = (name: string) =>
    ssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", name);
  key("ca.key");
  ssl("req", "-x509", "-new", "-key", "ca.key", "-subj", "/CN=test CA", "-days", "2", "-out", "ca.pem");
  const issue = (name: string, subject: string, ext: string) => {
    key(`${name}.key`);
    ssl("req", "-new", "-key", `${name}.key`, "-subj", subject, "-out", `${name}.csr`);
    writeFileSync(join(dir, `${name}.ext`), ext);
    ssl(
      "x509",
      "-req",
      "-in",
      `${name}.csr`,
      "-CA",
      "ca.pem",
      "-CAkey",
      "ca.key",
      "-CAcreateserial",
      "-days",
      "2",
      "-extfile",
      `${name}.ext`,
      "-out",
      `${name}.pem`,
    );
  };
  issue("server", "/CN=127.0.0.1", "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n");
  issue("client", "/CN=mirror client", "extendedKeyUsage=clientAuth\n");
  const read = (name: string) => readFileSync(join(dir, name), "utf8");
  return {
    ca: read("ca.pem"),
    serverCert: read("server.pem"),
    serverKey: read("server.key"),
    clientCert: read("client.pem"),
    clientKey: read("client.key"),
  };
}

interface Seen {
  path: string;
  clientCert: boolean;
  authorization: string | undefined;
}

const servers: Server[] = [];
/** An https server on 127.0.0.1 that asks for (and records) a client certificate; `answer` may redirect. */
async function serveTls(pki: Pki, seen: Seen[], answer: (req: IncomingMessage, res: ServerResponse) => void) {
  const server = createServer(
    { cert: pki.serverCert, key: pki.serverKey, ca: pki.ca, requestCert: true, rejectUnauthorized: false },
    (req, res) => {
      const cert = (req.socket as TLSSocket).getPeerCertificate();
      seen.push({
        path: req.url!,
        clientCert: Boolean(cert?.subject),
        authorization: req.headers.authorization,
      });
      answer(req, res);
    },
  );
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `https://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    port: (server.address() as AddressInfo).port,
  };
}

const clients: UpstreamClient[] = [];
function client(urls: string[], options: Partial<UpstreamClientOptions> = {}, logs: string[] = []) {
  const c = new UpstreamClient({ urls, log: (m) => logs.push(m), backoffMs: 10, attempts: 1, ...options });
  clients.push(c);
  return c;
}

let pki: Pki;
let nginx: Nginx;
beforeAll(async () => {
  pki = makePki();
  const root = makeTempDir("proxy-root-");
  mkdirSync(join(root, "Packages"));
  writeFileSync(join(root, href), data);
  nginx = await startNginx({ root });
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  for (const s of servers) {
    s.closeAllConnections();
    s.close();
  }
  await stopAll();
  await cleanupTempDirs();
});

describe("UpstreamClient through tinyproxy", () => {
  it("sends http requests in absolute form to the repository's proxy, with its credentials", async () => {
    const proxy = await startTinyproxy({ basicAuth: { user: "squid", pass: "pr0xy-pw" } });
    const logs: string[] = [];
    const c = client([nginx.url], { proxy: { url: proxy.url } }, logs);
    expect((await c.fetchVerified(href, expected, 1024 ** 2)).digest).toBe(expected.checksum.value);
    expect(proxy.log()).toContain(`Request (file descriptor`);
    expect(proxy.log()).toContain(`GET http://127.0.0.1:${nginx.port}/${href} HTTP/1.1`);

    // Wrong credentials: the proxy refuses (tinyproxy says 401), the error names it, nothing shows the password.
    const wrong = client([nginx.url], { proxy: { url: proxy.url.replace("pr0xy-pw", "wrong-pw") } }, logs);
    const err = await wrong.fetchVerified(href, expected, 1024 ** 2).catch((e: Error) => e);
    expect(err).toMatchObject({
      code: "UPSTREAM_UNAVAILABLE",
      message: expect.stringMatching(
        /HTTP 40[17] \(through proxy http:\/\/squid:\*\*\*@127\.0\.0\.1:\d+\/\)/,
      ),
    });
    expect(`${(err as Error).message}\n${logs.join("\n")}`).not.toMatch(/pr0xy-pw|wrong-pw/);
  });

  it("takes HTTP_PROXY from the configuration read at startup, and NO_PROXY", async () => {
    const proxy = await startTinyproxy();
    const env = { BESKARYUM_ADMIN_TOKEN: "t", http_proxy: proxy.url };
    const config = loadConfig({ argv: [], cwd: makeTempDir("cfg-"), env });
    const via = client([nginx.url], { proxy: config.proxy });
    expect((await via.fetchVerified(href, expected, 1024 ** 2)).digest).toBe(expected.checksum.value);
    expect(proxy.log()).toContain(`GET http://127.0.0.1:${nginx.port}/${href} HTTP/1.1`);

    const before = proxy.log().length;
    const direct = loadConfig({
      argv: [],
      cwd: makeTempDir("cfg-"),
      env: { ...env, NO_PROXY: "localhost,127.0.0.1" },
    });
    const c = client([nginx.url], { proxy: direct.proxy });
    expect((await c.fetchVerified(href, expected, 1024 ** 2)).digest).toBe(expected.checksum.value);
    expect(proxy.log().slice(before)).not.toContain("GET http://");
  });

  it("tunnels https with CONNECT, TLS to the upstream with its CA and client certificate", async () => {
    const proxy = await startTinyproxy();
    const seen: Seen[] = [];
    const upstream = await serveTls(pki, seen, (_req, res) => res.end(data));
    const tls = { ca: pki.ca, cert: pki.clientCert, key: pki.clientKey };
    const c = client([upstream.url], { tls, proxy: { https: proxy.url, http: "http://127.0.0.1:9/" } });
    for (let i = 0; i < 3; i++) {
      expect((await c.fetchVerified(href, expected, 1024 ** 2)).digest).toBe(expected.checksum.value);
    }
    expect(proxy.log()).toMatch(new RegExp(`CONNECT 127\\.0\\.0\\.1:${upstream.port} HTTP/1\\.1`));
    expect(seen).toHaveLength(3);
    expect(seen.every((s) => s.clientCert)).toBe(true);
  });
});

describe("UpstreamClient's credentials stay with the configured host", () => {
  it("sends neither the client certificate nor Authorization to the host a redirect names", async () => {
    const seen: Seen[] = [];
    const cdn = await serveTls(pki, seen, (_req, res) => res.end(data));
    const origin = await serveTls(pki, seen, (req, res) =>
      res.writeHead(302, { location: `${cdn.url}cdn${req.url}` }).end(),
    );
    const tls = { ca: pki.ca, cert: pki.clientCert, key: pki.clientKey };
    const logs: string[] = [];
    const c = client([origin.url.replace("https://", "https://user:hunter2@")], { tls }, logs);
    expect((await c.fetchVerified(href, expected, 1024 ** 2)).digest).toBe(expected.checksum.value);
    expect(seen).toEqual([
      {
        path: `/${href}`,
        clientCert: true,
        authorization: `Basic ${Buffer.from("user:hunter2").toString("base64")}`,
      },
      { path: `/cdn/${href}`, clientCert: false, authorization: undefined },
    ]);
    expect(logs.join("\n")).toMatch(new RegExp(`served by 127\\.0\\.0\\.1:${cdn.port} \\(redirected from`));
  });
});
