import { createHash } from "node:crypto";
import { BESKAR_DEFAULT_GOSSIP_KEY } from "@beskar-yum/plugin-sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildGoProgram, GoPeer } from "../gossip/go-programs.js";
import { stopAll } from "../support/processes.js";
import { cleanupTempDirs, makeTempDir } from "../support/tmp.js";
import { buildTestPlugin, TestPlugin, type TestPluginConfig } from "./plugin-process.js";

// Our plugin server (run as a child process from the built SDK) against Go playing Beskar: memberlist with
// the AES key, gob BeskarMeta (InstanceType 1, RegistryPort set), a fresh P-384 CA as join state, plugin
// registration through GET /info over mTLS, events posted as protobuf, and a registry port that checks
// the plugin's client certificate.

let goBinary: string;
let pluginEntry: string;

beforeAll(async () => {
  [goBinary, pluginEntry] = await Promise.all([
    buildGoProgram("beskar-peer", makeTempDir("beskar-peer-")),
    buildTestPlugin(),
  ]);
});

afterAll(async () => {
  await stopAll();
  await cleanupTempDirs();
});

const pluginConfig = (peers: string[]): TestPluginConfig => ({
  addr: "127.0.0.1:0",
  hostname: "plugin-host",
  gossip: { addr: "127.0.0.1:0", key: BESKAR_DEFAULT_GOSSIP_KEY, peers },
});

const MEDIATYPE = "application/vnd.test.file.v1.config+json";

describe("plugin server against Go playing Beskar", () => {
  it.concurrent("joins, turns Ready, is registered through /info, gets events, reaches the registry, leaves on SIGTERM", async () => {
    const go = await GoPeer.start(goBinary, [
      "-ca",
      "-control",
      "127.0.0.1:0",
      "-registry",
      "-hostname",
      "localhost",
    ]);
    const goCa = go.events().find((e) => e.event === "started")?.caCert as string;
    expect(goCa).toMatch(/^-----BEGIN CERTIFICATE-----/);
    const plugin = await TestPlugin.start(pluginEntry, pluginConfig([go.address]));

    // Go decoded our gob meta with encoding/gob: plugin, not ready yet, its HTTP port, our hostname.
    const joined = await go.waitForEvent((e) => e.event === "join" && e.name !== go.name);
    const pluginNode = joined.name!;
    const started = plugin.lines().find((l) => l.msg === "server started");
    const servicePort = Number(String(started?.listen_addr).split(":")[1]);
    expect(joined.metaError).toBeUndefined();
    expect(joined.meta).toEqual({
      InstanceType: 2,
      Ready: false,
      ServicePort: servicePort,
      RegistryPort: 0,
      Hostname: "plugin-host",
    });
    // Then the Ready update, and Beskar's registration: GET /info with its own client certificate,
    // decoded by Go's protobuf with no unknown fields.
    const update = await go.waitForEvent((e) => e.event === "update" && e.name === pluginNode);
    expect(update.meta).toMatchObject({ InstanceType: 2, Ready: true, ServicePort: servicePort });
    const registered = await go.waitForEvent(
      (e) => e.event === "pluginRegistered" || e.event === "pluginRegisterError",
    );
    expect(registered).toMatchObject({
      event: "pluginRegistered",
      name: pluginNode,
      hostport: `127.0.0.1:${servicePort}`,
      info: {
        name: "test",
        version: "1.2.3",
        mediatypes: [MEDIATYPE, "application/vnd.test.other.v1.config+json"],
        hasRouter: true,
        rego: "package router\n\ndefault output = {}\n",
        data: '{"routes":[]}',
      },
    });

    // The plugin took Beskar's CA and meta, and reached its registry with a client certificate Beskar
    // recognises as a plugin's (AuthorityKeyId = CA SubjectKeyId), server name hex(md5(hostname)).
    const serviceStart = plugin.lines().find((l) => l.msg === "service start")!;
    expect(serviceStart.caCert).toBe(goCa);
    expect(serviceStart.beskarMeta).toEqual({
      instanceType: 1,
      ready: true,
      servicePort: 5103,
      registryPort: go.registryPort,
      hostname: "localhost",
    });
    expect(plugin.lines().find((l) => l.msg === "beskar registry answered")).toMatchObject({
      status: 200,
      body: "{}",
    });
    expect(await go.waitForEvent((e) => e.event === "registryRequest")).toMatchObject({
      method: "GET",
      path: "/v2/",
      plugin: true,
      serverName: createHash("md5").update("localhost").digest("hex"),
      tlsVersion: 0x0304,
    });

    // Events, protobuf-encoded by Go, reach the handler of dirname(repository) in order.
    const events = [
      { repository: "artifacts/test/r1/files", digest: "sha256:01", action: 1, origin: 1 },
      { repository: "artifacts/test/r2/files", digest: "sha256:02", action: 1, origin: 2 },
      { repository: "artifacts/test/r1/files", digest: "sha256:03", action: 2, origin: 0 },
    ];
    for (const e of events) {
      const reply = await go.control("/event", {
        node: pluginNode,
        ...e,
        mediatype: MEDIATYPE,
        payload: Buffer.from(`manifest ${e.digest}`).toString("base64"),
      });
      expect(reply, JSON.stringify(reply)).toMatchObject({ status: 200 });
    }
    const processed = await plugin.waitForLines((l) => l.msg === "event processed", 3);
    expect(processed.map((l) => [l.repository, l.event])).toEqual(
      expect.arrayContaining(
        events.map((e) => [
          e.repository.replace(/\/files$/, ""),
          { ...e, mediatype: MEDIATYPE, payload: `manifest ${e.digest}` },
        ]),
      ),
    );
    const r1 = processed
      .filter((l) => l.repository === "artifacts/test/r1")
      .map((l) => (l.event as any).digest);
    expect(r1).toEqual(["sha256:01", "sha256:03"]);

    // What Beskar's side is refused or told.
    const request = (body: Record<string, unknown>) => go.control("/request", { node: pluginNode, ...body });
    expect((await request({ path: "/event", method: "POST", scheme: "http" })).status).toBe(401);
    expect((await request({ path: "/info", scheme: "http" })).status).toBe(401);
    expect((await request({ path: "/", scheme: "http" })).status).toBe(200);
    expect((await request({ path: "/", scheme: "https" })).status).toBe(200);
    expect((await request({ path: "/event", method: "GET" })).status).toBe(501);
    const garbage = Buffer.from("0a05ab", "hex").toString("base64");
    expect((await request({ path: "/event", method: "POST", body: garbage })).status).toBe(500);
    // Refused during the handshake: Go reports the alert, or — when Node closes the socket before the
    // alert is read — EOF, a reset or "server closed idle connection". Never an HTTP status.
    const refusal =
      /tls: certificate required|tls: unknown certificate authority|EOF|reset|server closed idle connection/;
    const noCert = await request({ path: "/info", client: "none" });
    expect(noCert.status).toBeUndefined();
    expect(noCert.error).toMatch(refusal);
    const foreign = await request({ path: "/info", client: "foreign" });
    expect(foreign.status).toBeUndefined();
    expect(foreign.error).toMatch(refusal);

    // SIGTERM: handlers stopped, a graceful leave (Go sees NodeLeave at once, not a failure), exit 0.
    const stopAt = Date.now();
    const status = await plugin.process.stop("SIGTERM", 10_000);
    expect(status).toEqual({ code: 0, signal: null });
    const lines = plugin.lines();
    expect(lines.filter((l) => l.msg === "handler stopped").map((l) => l.repository)).toEqual(
      expect.arrayContaining(["artifacts/test/r1", "artifacts/test/r2"]),
    );
    expect(lines.at(-1)?.msg).toBe("plugin stopped");
    const left = await go.waitForEvent((e) => e.event === "leave" && e.name === pluginNode, 3000);
    expect(left.meta?.Ready).toBe(true);
    expect(Date.now() - stopAt).toBeLessThan(5000);
    await go.waitForEvent((e) => e.event === "pluginUnregistered" && e.name === pluginNode, 1000);
    expect(go.logLines().filter((l) => /Suspect|Marking .* as failed/.test(l))).toEqual([]);
    // The only error logged is the garbage body's.
    expect(lines.filter((l) => l.level === "error").map((l) => l.msg)).toEqual(["unmarshal event"]);
    await go.stop();
  }, 45_000);

  it.concurrent("does not join a Beskar with another gossip key, and says why", async () => {
    const go = await GoPeer.start(goBinary, ["-ca", "-wrong-key"]);
    const plugin = await TestPlugin.start(pluginEntry, pluginConfig([go.address]), /"msg":"plugin failed"/);
    const status = await plugin.process.exited;
    expect(status.code).toBe(1);
    const failed = plugin.lines().find((l) => l.msg === "plugin failed")!;
    expect(failed.code).toBe("JOIN_FAILED");
    expect(failed.err).toMatch(/^no peer has been joined: 127\.0\.0\.1:\d+: cannot decrypt its reply/);
    expect(failed.err).toMatch(/check that both sides use the same gossip key/);
    expect(go.events().filter((e) => e.event === "join" && e.name !== go.name)).toEqual([]);
    await go.stop();
  }, 30_000);
});
