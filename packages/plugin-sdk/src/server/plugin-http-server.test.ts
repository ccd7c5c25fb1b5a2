import * as http from "node:http";
import * as https from "node:https";
import * as net from "node:net";
import type * as tls from "node:tls";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { silentLogger } from "../logger.js";
import { CertificateAuthority } from "../mtls/ca.js";
import { issueCertificate, type LeafCertificate } from "../mtls/certificates.js";
import { clientTlsOptions, serverTlsOptions } from "../mtls/tls-options.js";
import { Action, createEventPayload, type EventPayload, encodeEventPayload } from "../proto/event-payload.js";
import { decodeInfo } from "../proto/plugin-info.js";
import type { HandlerContext } from "../repository/handler.js";
import { RepoHandler } from "../repository/repo-handler.js";
import { RepositoryManager } from "../repository/repository-manager.js";
import { isTlsRequest, PluginHttpServer } from "./plugin-http-server.js";
import { PluginRouter } from "./plugin-router.js";
import { eventHandler, infoHandler, requireTls } from "./web-handler.js";

let ca: CertificateAuthority;
let serverCert: LeafCertificate;
let clientCert: LeafCertificate;
let foreignCa: CertificateAuthority;
let foreignClient: LeafCertificate;

beforeAll(async () => {
  ca = await CertificateAuthority.generate();
  serverCert = await issueCertificate(ca);
  clientCert = await issueCertificate(ca);
  foreignCa = await CertificateAuthority.generate();
  foreignClient = await issueCertificate(foreignCa);
});

const servers: PluginHttpServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

interface Reply {
  status: number;
  body: Buffer;
}

function request(
  port: number,
  path: string,
  init: { method?: string; body?: Uint8Array; tls?: tls.ConnectionOptions | false } = {},
): Promise<Reply> {
  const mod = init.tls ? https : http;
  return new Promise((resolve, reject) => {
    const req = mod.request(
      {
        host: "127.0.0.1",
        port,
        path,
        method: init.method ?? "GET",
        agent: false,
        ...(init.tls || {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode!, body: Buffer.concat(chunks) }));
      },
    );
    req.on("error", reject);
    req.end(init.body);
  });
}

async function startServer(handler: http.RequestListener, withTls = true): Promise<PluginHttpServer> {
  const server = new PluginHttpServer({ handler });
  servers.push(server);
  await server.listen("127.0.0.1", 0);
  if (withTls) server.setTlsOptions(serverTlsOptions(ca, serverCert));
  return server;
}

describe("PluginHttpServer", () => {
  const echo: http.RequestListener = (req, res) => res.end(isTlsRequest(req) ? "tls" : "plain");

  it("serves plain HTTP and mTLS on one port, told apart by the first byte", async () => {
    const server = await startServer(echo);
    expect((await request(server.port, "/")).body.toString()).toBe("plain");
    const reply = await request(server.port, "/", { tls: clientTlsOptions(ca, clientCert) });
    expect(reply.body.toString()).toBe("tls");
  });

  it("requires a client certificate signed by the CA, TLS 1.3", async () => {
    let served = 0;
    const server = await startServer((req, res) => {
      served++;
      echo(req, res);
    });
    // No client certificate: TLS 1.3 alert 116; a certificate from another CA: alert 48.
    await expect(request(server.port, "/", { tls: { ca: [ca.certPem] } })).rejects.toThrow(
      /alert certificate required/,
    );
    // (The server may close before the client reads its alert.)
    await expect(request(server.port, "/", { tls: clientTlsOptions(ca, foreignClient) })).rejects.toThrow(
      /alert unknown ca|socket hang up|ECONNRESET/,
    );
    expect(served).toBe(0);
    await expect(
      request(server.port, "/", {
        tls: { ...clientTlsOptions(ca, clientCert), maxVersion: "TLSv1.2", minVersion: "TLSv1.2" },
      }),
    ).rejects.toThrow(/protocol|version|alert/i);
  });

  it("drops TLS connections until the TLS options are set, and silent connections after 100 ms", async () => {
    const server = await startServer(echo, false);
    await expect(request(server.port, "/", { tls: clientTlsOptions(ca, clientCert) })).rejects.toThrow();
    expect((await request(server.port, "/")).status).toBe(200);

    const socket = net.connect(server.port, "127.0.0.1");
    const t0 = Date.now();
    await new Promise((resolve) => socket.once("close", resolve));
    expect(Date.now() - t0).toBeGreaterThanOrEqual(90);
    expect(Date.now() - t0).toBeLessThan(1000);

    server.setTlsOptions(serverTlsOptions(ca, serverCert));
    expect((await request(server.port, "/", { tls: clientTlsOptions(ca, clientCert) })).status).toBe(200);
  });

  it("reads a body that keeps flowing past the headers timeout, and drops one that goes silent", async () => {
    const server = new PluginHttpServer({
      headersTimeoutMs: 200,
      idleTimeoutMs: 300,
      handler: (req, res) => {
        let size = 0;
        req.on("data", (chunk: Buffer) => (size += chunk.length));
        req.on("end", () => res.end(String(size)));
      },
    });
    servers.push(server);
    await server.listen("127.0.0.1", 0);
    const upload = (chunks: number, pauseMs: number) =>
      new Promise<string>((resolve, reject) => {
        const req = http.request(
          { host: "127.0.0.1", port: server.port, method: "PUT", path: "/x", agent: false },
          (res) => {
            let body = "";
            res.on("data", (c: Buffer) => (body += c));
            res.on("end", () => resolve(body));
          },
        );
        req.on("error", reject);
        let sent = 0;
        const next = () => {
          if (sent++ === chunks) return req.end();
          req.write(Buffer.alloc(1000));
          setTimeout(next, pauseMs);
        };
        next();
      });
    // 8 chunks 100 ms apart: 800 ms in all, four times the headers timeout, never 300 ms silent.
    expect(await upload(8, 100)).toBe("8000");
    await expect(upload(2, 1000)).rejects.toThrow(/socket hang up|ECONNRESET/);
  });

  it("closes open keep-alive connections on close()", async () => {
    const server = await startServer(echo);
    const agent = new http.Agent({ keepAlive: true });
    await new Promise<void>((resolve) => {
      http.get({ host: "127.0.0.1", port: server.port, agent }, (res) => res.resume().on("end", resolve));
    });
    const t0 = Date.now();
    await server.close();
    expect(Date.now() - t0).toBeLessThan(1000);
    agent.destroy();
  });
});

class Recorder extends RepoHandler {
  static events: [string, EventPayload][] = [];
  constructor(ctx: HandlerContext) {
    super(ctx);
  }
  protected override async storeEvent(event: EventPayload): Promise<void> {
    if (event.digest === "refuse") throw new Error("refused");
  }
  protected async processEvents(events: readonly EventPayload[]): Promise<void> {
    for (const e of events) Recorder.events.push([this.repository, e]);
  }
}

describe("/info and /event", () => {
  async function pluginServer(manager: RepositoryManager<Recorder> | undefined) {
    const router = new PluginRouter((_req, res) => void res.writeHead(418).end(), silentLogger);
    router.handle("/event", requireTls(eventHandler({ manager, logger: silentLogger })));
    router.handle(
      "/info",
      requireTls(
        infoHandler({ name: "test", version: "1.0.0", mediatypes: ["m"], router: { rego: "r", data: "{}" } }),
      ),
    );
    return startServer(router.listener);
  }
  const mtls = () => clientTlsOptions(ca, clientCert);

  it("answers Info over TLS only; 501 to other methods; other paths go to the service router", async () => {
    const server = await pluginServer(undefined);
    const reply = await request(server.port, "/info", { tls: mtls() });
    expect(reply.status).toBe(200);
    expect(decodeInfo(reply.body)).toMatchObject({ name: "test", version: "1.0.0", mediatypes: ["m"] });
    expect((await request(server.port, "/info")).status).toBe(401);
    expect((await request(server.port, "/info", { method: "POST", tls: mtls() })).status).toBe(501);
    expect((await request(server.port, "/info?x=1", { tls: mtls() })).status).toBe(200);
    expect((await request(server.port, "/other", { tls: mtls() })).status).toBe(418);
  });

  it("routes events to the handler of dirname(repository), with Beskar's status codes", async () => {
    Recorder.events = [];
    const manager = new RepositoryManager((ctx) => new Recorder(ctx));
    const server = await pluginServer(manager);
    const post = (
      event: Parameters<typeof encodeEventPayload>[0],
      tlsOptions: tls.ConnectionOptions | false = mtls(),
    ) => request(server.port, "/event", { method: "POST", body: encodeEventPayload(event), tls: tlsOptions });

    expect(
      (await post({ repository: "artifacts/yum/a/packages", digest: "d1", action: Action.PUT }, false))
        .status,
    ).toBe(401);
    expect((await request(server.port, "/event", { tls: mtls() })).status).toBe(501);
    expect(
      (
        await request(server.port, "/event", {
          method: "POST",
          body: Buffer.from("0a05ab", "hex"),
          tls: mtls(),
        })
      ).status,
    ).toBe(500);
    expect((await post({ repository: "", action: Action.PUT })).status).toBe(500);

    expect(
      (await post({ repository: "artifacts/yum/a/packages", digest: "d1", action: Action.PUT })).status,
    ).toBe(200);
    expect(
      (await post({ repository: "artifacts/yum/a/repodata", digest: "d2", action: Action.DELETE })).status,
    ).toBe(200);
    expect(
      (await post({ repository: "artifacts/yum/a/packages", digest: "refuse", action: Action.PUT })).status,
    ).toBe(500);
    expect((await post({ repository: "artifacts/yum/b/packages", action: Action.START })).status).toBe(200);
    expect(manager.has("artifacts/yum/b")).toBe(true);
    expect((await post({ repository: "artifacts/yum/b/packages", action: Action.STOP })).status).toBe(200);
    expect(manager.has("artifacts/yum/b")).toBe(false);
    expect((await post({ repository: "artifacts/yum/c/packages", action: Action.UNSPECIFIED })).status).toBe(
      200,
    );
    expect(manager.has("artifacts/yum/c")).toBe(false);

    const a = manager.get("artifacts/yum/a");
    await a.idle();
    expect(Recorder.events.map(([repo, e]) => [repo, e.digest, e.action])).toEqual([
      ["artifacts/yum/a", "d1", Action.PUT],
      ["artifacts/yum/a", "d2", Action.DELETE],
    ]);
    expect(Recorder.events[0]![1]).toEqual(
      createEventPayload({ repository: "artifacts/yum/a/packages", digest: "d1", action: Action.PUT }),
    );
    await manager.stopAll();
  });

  it("answers 501 to events without a repository manager (a plugin without state)", async () => {
    const server = await pluginServer(undefined);
    const body = encodeEventPayload({ repository: "r/x", action: Action.PUT });
    expect((await request(server.port, "/event", { method: "POST", body, tls: mtls() })).status).toBe(501);
  });
});
