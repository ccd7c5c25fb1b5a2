import { randomBytes } from "node:crypto";
import * as https from "node:https";
import * as net from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { type BeskarMeta, InstanceType } from "../beskar-meta.js";
import { type CaState, encodeCaState } from "../ca-state.js";
import { isPluginSdkError } from "../errors.js";
import { silentLogger } from "../logger.js";
import { Member } from "../memberlist/member.js";
import type { MemberNode } from "../memberlist/member-node.js";
import { CertificateAuthority } from "../mtls/ca.js";
import { issueCertificate } from "../mtls/certificates.js";
import { clientTlsOptions } from "../mtls/tls-options.js";
import { Action, type EventPayload, encodeEventPayload } from "../proto/event-payload.js";
import { decodeInfo } from "../proto/plugin-info.js";
import type { HandlerContext } from "../repository/handler.js";
import { RepoHandler } from "../repository/repo-handler.js";
import { RepositoryManager } from "../repository/repository-manager.js";
import type { BeskarTransport } from "./beskar-transport.js";
import { servePlugin, startPlugin } from "./serve-plugin.js";
import type { Service } from "./service.js";

const KEY = randomBytes(32).toString("base64");
/** Fast failure detection so a test run stays short. */
const FAST = { probeIntervalMs: 200, probeTimeoutMs: 100, gossipIntervalMs: 50 };

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((c) => c().catch(() => {})));
});

/** A TS member playing Beskar's gossip side: BeskarMeta type 1 and its CA as join state. */
async function fakeBeskar(instanceType: number = InstanceType.Beskar) {
  const ca = await CertificateAuthority.generate();
  const member = new Member({
    meta: { instanceType, ready: true, servicePort: 5103, registryPort: 5100, hostname: "localhost" },
    bindAddress: "127.0.0.1",
    keys: [KEY],
    localState: encodeCaState(ca.toState()),
    ...FAST,
  });
  const events: { type: string; node: MemberNode }[] = [];
  for (const type of ["join", "update", "leave"] as const)
    member.on(type, (node) => events.push({ type, node }));
  await member.start();
  cleanups.push(() => member.shutdown());
  return { ca, member, events, address: `127.0.0.1:${member.port}` };
}

class Recorder extends RepoHandler {
  static seen: EventPayload[] = [];
  constructor(ctx: HandlerContext) {
    super(ctx);
  }
  protected async processEvents(events: readonly EventPayload[]): Promise<void> {
    Recorder.seen.push(...events);
  }
}

function testService(peers: string[], abort = new AbortController()) {
  const started: { transport: BeskarTransport; ca: CaState; meta: BeskarMeta }[] = [];
  const service: Service<Recorder> = {
    context: { signal: abort.signal, logger: silentLogger },
    config: {
      gossip: { addr: "127.0.0.1:0", key: KEY, peers },
      info: {
        name: "test",
        version: "0.1.0",
        mediatypes: ["application/x-test"],
        router: { rego: "r", data: "{}" },
      },
    },
    repositoryManager: new RepositoryManager((ctx) => new Recorder(ctx)),
    async start(transport, ca, meta) {
      started.push({ transport, ca, meta });
    },
  };
  return { service, started, abort };
}

function mtlsRequest(port: number, path: string, tlsOptions: object, body?: Uint8Array) {
  return new Promise<{ status: number; body: Buffer }>((resolve, reject) => {
    const req = https.request(
      { host: "127.0.0.1", port, path, method: body ? "POST" : "GET", agent: false, ...tlsOptions },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode!, body: Buffer.concat(chunks) }));
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

async function until<T>(what: string, fn: () => T | undefined, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = fn();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const portOpen = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = net.connect(port, "127.0.0.1");
    s.once("connect", () => {
      s.destroy();
      resolve(true);
    });
    s.once("error", () => resolve(false));
  });

describe("startPlugin", () => {
  it("joins Beskar, takes its CA, serves /info and /event with mTLS, turns Ready, leaves on stop", async () => {
    const beskar = await fakeBeskar();
    const { service, started } = testService([beskar.address]);
    const observed: [string, string | undefined, number][] = [];
    const running = await startPlugin(service, {
      addr: "127.0.0.1:0",
      hostname: "plugin-host",
      member: FAST,
      observe: (url, method, status) => observed.push([url, method, status]),
    });
    cleanups.push(() => running.stop());

    // Beskar saw the plugin join with its meta, then turn Ready.
    const join = beskar.events.find((e) => e.type === "join" && !e.node.local);
    expect(join?.node.meta).toEqual({
      instanceType: 2,
      ready: false,
      servicePort: running.port,
      registryPort: 0,
      hostname: "plugin-host",
    });
    await until("the Ready update", () =>
      beskar.events.find((e) => e.type === "update" && e.node.meta?.ready === true),
    );

    // The plugin uses Beskar's CA, not its own, and got Beskar's meta in start().
    expect(running.ca.subjectKeyId).toBe(beskar.ca.subjectKeyId);
    expect(started).toHaveLength(1);
    expect(started[0]!.ca).toEqual(beskar.ca.toState());
    expect(started[0]!.meta).toMatchObject({ instanceType: 1, registryPort: 5100, hostname: "localhost" });
    expect(started[0]!.transport.baseUrl).toBe("https://localhost:5100");

    // Beskar's side of /info and /event: a client certificate from its CA.
    const client = clientTlsOptions(beskar.ca, await issueCertificate(beskar.ca));
    const info = await mtlsRequest(running.port, "/info", client);
    expect(decodeInfo(info.body)).toMatchObject({ name: "test", mediatypes: ["application/x-test"] });
    Recorder.seen = [];
    const event = encodeEventPayload({
      repository: "artifacts/test/r/files",
      digest: "sha256:01",
      action: Action.PUT,
    });
    expect((await mtlsRequest(running.port, "/event", client, event)).status).toBe(200);
    await service.repositoryManager!.get("artifacts/test/r").idle();
    expect(Recorder.seen.map((e) => e.digest)).toEqual(["sha256:01"]);
    // Both answers were told to `observe` (metrics), once each.
    await until("both responses observed", () => observed.length === 2 || undefined, 20_000);
    expect(observed).toEqual([
      ["/info", "GET", 200],
      ["/event", "POST", 200],
    ]);

    await running.stop();
    await until("the leave", () => beskar.events.find((e) => e.type === "leave" && e.node.state === "left"));
    expect(service.repositoryManager!.getAll().size).toBe(0);
    expect(await portOpen(running.port)).toBe(false);
  });

  it("fails with 'no beskar instance found' when the peer is not Beskar, and cleans up", async () => {
    const notBeskar = await fakeBeskar(InstanceType.Plugin);
    const { service } = testService([notBeskar.address]);
    const t0 = Date.now();
    const err = await startPlugin(service, { addr: "127.0.0.1:0", beskarWaitMs: 300, member: FAST }).catch(
      (e: unknown) => e,
    );
    expect(isPluginSdkError(err, "NO_BESKAR_INSTANCE")).toBe(true);
    expect((err as Error).message).toBe("no beskar instance found");
    expect(Date.now() - t0).toBeLessThan(3000);
    await until("the leave", () => notBeskar.events.find((e) => e.type === "leave"));
  });

  it("fails with 'no peer has been joined' when no peer answers", async () => {
    const { service } = testService(["127.0.0.1:1"]);
    const err = await startPlugin(service, { addr: "127.0.0.1:0", member: FAST }).catch((e: unknown) => e);
    expect(isPluginSdkError(err, "JOIN_FAILED")).toBe(true);
    expect((err as Error).message).toMatch(/^no peer has been joined/);
  });
});

describe("servePlugin", () => {
  it("serves until the service's signal aborts, then stops gracefully", async () => {
    const beskar = await fakeBeskar();
    const { service, abort } = testService([beskar.address]);
    const serving = servePlugin(service, { addr: "127.0.0.1:0", member: FAST });
    await until("the Ready update", () =>
      beskar.events.find((e) => e.type === "update" && e.node.meta?.ready === true),
    );
    abort.abort();
    await serving;
    await until("the leave", () => beskar.events.find((e) => e.type === "leave"));
  });

  it("returns without error when stopped while still waiting for Beskar", async () => {
    const notBeskar = await fakeBeskar(InstanceType.Plugin);
    const { service, abort } = testService([notBeskar.address]);
    const serving = servePlugin(service, { addr: "127.0.0.1:0", member: FAST });
    await until("the join", () => notBeskar.events.find((e) => e.type === "join" && !e.node.local));
    const t0 = Date.now();
    abort.abort();
    await serving;
    expect(Date.now() - t0).toBeLessThan(2000);
  });
});
