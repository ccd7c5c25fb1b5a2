import {
  BESKAR_DEFAULT_GOSSIP_KEY,
  encodeCaState,
  type GossipLogger,
  InstanceType,
  isPluginSdkError,
  Member,
  type MemberNode,
  type MemberOptions,
} from "@beskar-yum/plugin-sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stopAll } from "../support/processes.js";
import { cleanupTempDirs, makeTempDir } from "../support/tmp.js";
import { buildGoProgram, type GoEvent, GoPeer } from "./go-programs.js";

// Our Member against Go's memberlist (Debian's 0.2.2) playing Beskar's side as internal/pkg/gossip
// does: DefaultLANConfig, AES-256 key, gob BeskarMeta, CA JSON as join push/pull state.

let peerBinary: string;
const members: Member[] = [];

beforeAll(async () => {
  peerBinary = await buildGoProgram("beskar-peer", makeTempDir("beskar-peer-"));
});

afterAll(async () => {
  await Promise.all(members.map((m) => m.shutdown()));
  await stopAll();
  await cleanupTempDirs();
});

const PLUGIN_CA = encodeCaState({
  certPem: "-----BEGIN CERTIFICATE-----\nplugin\n-----END CERTIFICATE-----\n",
  keyPem: "-----BEGIN EC PRIVATE KEY-----\nplugin\n-----END EC PRIVATE KEY-----\n",
});

interface Recorded {
  member: Member;
  events: { type: "join" | "leave" | "update"; node: MemberNode; at: number }[];
  remoteStates: { state: string; join: boolean }[];
  pings: number;
  refutes: string[];
  logs: { level: string; message: string; details: Record<string, unknown> }[];
}

/** A started plugin-side member on 127.0.0.1 with every event recorded. */
async function pluginMember(overrides: Partial<MemberOptions> = {}): Promise<Recorded> {
  const logs: Recorded["logs"] = [];
  const logger = Object.fromEntries(
    (["debug", "info", "warn", "error"] as const).map((level) => [
      level,
      (details: Record<string, unknown>, message: string) => logs.push({ level, message, details }),
    ]),
  ) as unknown as GossipLogger;
  const member = new Member({
    meta: {
      instanceType: InstanceType.Plugin,
      ready: false,
      servicePort: 5200,
      registryPort: 0,
      hostname: "plugin-host",
    },
    bindAddress: "127.0.0.1",
    keys: [BESKAR_DEFAULT_GOSSIP_KEY],
    localState: PLUGIN_CA,
    logger,
    ...overrides,
  });
  members.push(member);
  const rec: Recorded = { member, events: [], remoteStates: [], pings: 0, refutes: [], logs };
  for (const type of ["join", "leave", "update"] as const) {
    member.on(type, (node) => rec.events.push({ type, node, at: Date.now() }));
  }
  member.on("remoteState", (state, join) => rec.remoteStates.push({ state: state.toString("utf8"), join }));
  member.on("pingComplete", () => rec.pings++);
  member.on("refute", (_inc, reason) => rec.refutes.push(reason));
  await member.start();
  return rec;
}

async function until<T>(what: string, fn: () => T | undefined, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = fn();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const byName = (name: string) => (e: GoEvent) => e.name === name;

describe("Member against a Go memberlist peer playing Beskar", () => {
  it.concurrent("joins it: meta both ways, CA state both ways, Ready update, alive for >10 s of probing, graceful leave", async () => {
    const go = await GoPeer.start(peerBinary, ["-hostname", "beskar.example", "-registry-port", "5100"]);
    const plugin = await pluginMember();
    const { member } = plugin;

    expect(await member.join([go.address])).toBe(1);

    // Go sees us with our meta, decoded by encoding/gob.
    const joined = await go.waitForEvent((e) => e.event === "join" && e.name === member.name);
    expect(joined).toMatchObject({
      addr: "127.0.0.1",
      port: member.port,
      meta: { InstanceType: 2, Ready: false, ServicePort: 5200, RegistryPort: 0, Hostname: "plugin-host" },
    });
    expect(joined.metaError).toBeUndefined();
    // Go stored our join state (Beskar ignores it, but it must arrive intact).
    const goGot = await go.waitForEvent((e) => e.event === "remoteState");
    expect(goGot).toMatchObject({ join: true, stored: true, state: PLUGIN_CA.toString("utf8") });

    // We see Go's node with its meta, and its CA state as our remote state.
    const beskarNode = plugin.events.find((e) => e.type === "join" && e.node.name === go.name)?.node;
    expect(beskarNode).toMatchObject({
      address: "127.0.0.1",
      port: go.port,
      state: "alive",
      local: false,
      meta: {
        instanceType: 1,
        ready: true,
        servicePort: 5103,
        registryPort: 5100,
        hostname: "beskar.example",
      },
      protocol: [1, 5, 2],
    });
    expect(plugin.remoteStates).toHaveLength(1);
    expect(plugin.remoteStates[0]!.join).toBe(true);
    expect(JSON.parse(plugin.remoteStates[0]!.state)).toHaveProperty("cert");
    expect(member.remoteState?.toString("utf8")).toBe(plugin.remoteStates[0]!.state);
    expect(member.localState?.equals(PLUGIN_CA)).toBe(true);

    // Turning ready: an alive with a higher incarnation, seen by Go as NodeUpdate.
    await member.updateMeta({
      instanceType: InstanceType.Plugin,
      ready: true,
      servicePort: 5200,
      registryPort: 0,
      hostname: "plugin-host",
    });
    const update = await go.waitForEvent((e) => e.event === "update" && e.name === member.name);
    expect(update.meta).toEqual({
      InstanceType: 2,
      Ready: true,
      ServicePort: 5200,
      RegistryPort: 0,
      Hostname: "plugin-host",
    });

    // More than 10 s of mutual probing: Go never suspects us and we never suspect Go.
    const since = Date.now();
    await sleep(10_500);
    const goPings = go.events().filter((e) => e.event === "ping" && e.name === member.name).length;
    expect(goPings, "probes of us Go completed").toBeGreaterThanOrEqual(5);
    expect(plugin.pings, "probes of Go we completed").toBeGreaterThanOrEqual(5);
    const trouble = go.logLines().filter((l) => /Suspect|Marking .* as failed|Failed ping|ERR|WARN/.test(l));
    expect(trouble).toEqual([]);
    expect(go.events().filter((e) => e.event === "leave")).toEqual([]);
    expect(plugin.refutes).toEqual([]);
    expect(plugin.events.filter((e) => e.type === "leave" && e.at >= since)).toEqual([]);
    expect(member.members().map((n) => [n.name, n.state])).toEqual(
      expect.arrayContaining([
        [go.name, "alive"],
        [member.name, "alive"],
      ]),
    );

    // Graceful leave (what the plugin does on SIGTERM): Go reports NodeLeave at once, not after
    // failure detection (which would take at least a probe period plus a 4 s suspicion timeout).
    const leaveStart = Date.now();
    await member.leave();
    const left = await go.waitForEvent((e) => e.event === "leave" && e.name === member.name, 3000);
    expect(left.meta?.Ready).toBe(true);
    expect(Date.now() - leaveStart).toBeLessThan(2000);
    await member.shutdown();
    expect(go.logLines().filter((l) => /Suspect|failed/.test(l))).toEqual([]);
    await go.stop();
  }, 40_000);

  it.concurrent("is joined by it, and sees it leave (not fail) on SIGTERM", async () => {
    const plugin = await pluginMember();
    const { member } = plugin;
    const go = await GoPeer.start(peerBinary, ["-join", `127.0.0.1:${member.port}`]);
    expect(await go.waitForEvent((e) => e.event === "joinResult")).toMatchObject({ joined: 1 });
    expect(await go.waitForEvent((e) => e.event === "join" && e.name === member.name)).toMatchObject({
      meta: { InstanceType: 2, Ready: false, ServicePort: 5200, Hostname: "plugin-host" },
    });
    // Go joined us: it sent its CA (stored as our remote state) and got ours.
    const node = await until("Go's node", () =>
      plugin.events.find((e) => e.type === "join" && e.node.name === go.name),
    );
    expect(node.node.meta).toMatchObject({ instanceType: 1, registryPort: 5100, hostname: "localhost" });
    expect(plugin.remoteStates).toEqual([{ state: expect.stringContaining('"cert"'), join: true }]);
    expect(await go.waitForEvent((e) => e.event === "remoteState")).toMatchObject({
      state: PLUGIN_CA.toString("utf8"),
    });

    const stopAt = Date.now();
    await go.stop();
    const leave = await until("Go's leave", () =>
      plugin.events.find((e) => e.type === "leave" && e.node.name === go.name),
    );
    expect(leave.node.state).toBe("left");
    expect(leave.at - stopAt).toBeLessThan(2000);
    expect(go.events().find(byName(member.name))).toBeDefined();
    await member.shutdown();
  });

  it.concurrent("refuses to join a peer with another key and says why (Go: No installed keys could decrypt)", async () => {
    const go = await GoPeer.start(peerBinary, ["-wrong-key"]);
    const plugin = await pluginMember();
    const err = await plugin.member.join([go.address]).catch((e: unknown) => e);
    expect(isPluginSdkError(err, "JOIN_FAILED")).toBe(true);
    expect((err as Error).message).toMatch(
      /no peer has been joined: 127\.0\.0\.1:\d+: cannot decrypt its reply/,
    );
    expect((err as Error).message).toMatch(/no installed key could decrypt the message.*same gossip key/);
    await until("Go's log line", () =>
      go.logLines().some((l) => /No installed keys could decrypt the message/.test(l)),
    );
    expect(go.events().filter((e) => e.event === "join" && e.name !== go.name)).toEqual([]);
    expect(plugin.member.members().map((n) => n.name)).toEqual([plugin.member.name]);
    await plugin.member.shutdown();
    await go.stop();
  });

  it.concurrent("refuses a joining peer with another key and logs why", async () => {
    const plugin = await pluginMember();
    const go = await GoPeer.start(peerBinary, ["-wrong-key", "-join", `127.0.0.1:${plugin.member.port}`]);
    const result = await go.waitForEvent((e) => e.event === "joinResult");
    expect(result.joined).toBe(0);
    expect(result.error).toMatch(/No installed keys could decrypt the message/);
    const warning = plugin.logs.find((l) => l.message === "failed to receive a stream message");
    expect(warning?.details.err).toMatch(/no installed key could decrypt the message/);
    expect(plugin.events.filter((e) => e.type === "join" && !e.node.local)).toEqual([]);
    await plugin.member.shutdown();
    await go.stop();
  });
});
