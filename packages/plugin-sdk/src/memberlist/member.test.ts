import { randomBytes } from "node:crypto";
import * as dgram from "node:dgram";
import * as net from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { type BeskarMeta, InstanceType } from "../beskar-meta.js";
import { isPluginSdkError } from "../errors.js";
import type { GossipLogger } from "./logger.js";
import { Member } from "./member.js";
import type { MemberNode } from "./member-node.js";
import type { MemberOptions } from "./member-options.js";
import {
  ackRespCodec,
  indirectPingCodec,
  MessageType,
  nackRespCodec,
  pingCodec,
  userMsgHeaderCodec,
} from "./messages.js";
import { decompressMessage, splitCompound } from "./packet.js";
import { buildPushPull, encodeStreamMessage, parsePushPull, readStreamMessage } from "./stream.js";

const KEY = randomBytes(32).toString("base64");
const meta = (hostname: string, ready = false): BeskarMeta => ({
  instanceType: InstanceType.Plugin,
  ready,
  servicePort: 5200,
  registryPort: 0,
  hostname,
});
/** Fast failure detection for tests: probe every 200 ms, suspicion timeout 800 ms. */
const FAST: Partial<MemberOptions> = { probeIntervalMs: 200, probeTimeoutMs: 100, gossipIntervalMs: 50 };

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  await Promise.all(cleanup.splice(0).map((fn) => fn()));
});

interface Started {
  member: Member;
  events: { type: string; node: MemberNode; at: number }[];
  logs: { level: string; message: string; details: Record<string, unknown> }[];
}

async function start(hostname: string, options: Partial<MemberOptions> = {}): Promise<Started> {
  const logs: Started["logs"] = [];
  const logger = Object.fromEntries(
    ["debug", "info", "warn", "error"].map((level) => [
      level,
      (details: Record<string, unknown>, message: string) => logs.push({ level, message, details }),
    ]),
  ) as unknown as GossipLogger;
  const member = new Member({
    meta: meta(hostname),
    bindAddress: "127.0.0.1",
    keys: [KEY],
    logger,
    ...options,
  });
  const events: Started["events"] = [];
  for (const type of ["join", "leave", "update"] as const) {
    member.on(type, (node) => events.push({ type, node, at: Date.now() }));
  }
  await member.start();
  cleanup.push(() => member.shutdown());
  return { member, events, logs };
}

async function until<T>(what: string, fn: () => T | undefined | false, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = fn();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Every memberlist message in a plaintext datagram (compound and compress unwrapped). */
function messagesIn(datagram: Buffer): Buffer[] {
  if (datagram[0] === MessageType.compound)
    return splitCompound(datagram.subarray(1)).parts.flatMap(messagesIn);
  if (datagram[0] === MessageType.compress)
    return messagesIn(decompressMessage(datagram.subarray(1), 1 << 20));
  return [datagram];
}

async function udpSocket(onMessage: (msg: Buffer, from: dgram.RemoteInfo, socket: dgram.Socket) => void) {
  const socket = dgram.createSocket("udp4");
  socket.on("message", (msg, from) => onMessage(msg, from, socket));
  await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", resolve));
  cleanup.push(() => new Promise<void>((resolve) => socket.close(() => resolve())));
  return { socket, port: socket.address().port };
}

/** Sends a stream message to `port` and returns the decoded reply (plaintext members only). */
function streamExchange(port: number, message: Buffer): Promise<{ type: number; body: Buffer }> {
  const codec = { compress: false, verifyIncoming: false, maxBytes: 1 << 20 };
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, "127.0.0.1", () => socket.write(encodeStreamMessage(message, codec)));
    let received = Buffer.alloc(0);
    socket.on("data", (chunk) => {
      received = Buffer.concat([received, chunk]);
    });
    socket.on("end", () => {
      const reply = readStreamMessage(received, codec);
      if (reply) resolve(reply);
      else reject(new Error(`incomplete reply of ${received.length} bytes`));
    });
    socket.on("error", reject);
  });
}

describe("Member", () => {
  it("joins another member: meta and Beskar user state both ways, meta updates, graceful leave", async () => {
    const a = await start("host-a", { localState: Buffer.from("state-a") });
    const b = await start("host-b", { localState: Buffer.from("state-b") });
    const remoteOfA: string[] = [];
    a.member.on("remoteState", (s, join) => remoteOfA.push(`${s}/${join}`));

    expect(await b.member.join([`127.0.0.1:${a.member.port}`])).toBe(1);
    await until("a sees b", () => a.events.find((e) => e.type === "join" && e.node.name === b.member.name));
    const seenByB = b.events.find((e) => e.type === "join" && e.node.name === a.member.name)?.node;
    expect(seenByB).toMatchObject({
      address: "127.0.0.1",
      port: a.member.port,
      meta: meta("host-a"),
      local: false,
    });
    expect(b.events[0]?.node).toMatchObject({ local: true, meta: meta("host-b") });
    // Beskar's delegate: the joiner takes the peer's state; the joined one records the joiner's.
    expect(b.member.remoteState?.toString()).toBe("state-a");
    expect(a.member.remoteState?.toString()).toBe("state-b");
    expect(remoteOfA).toEqual(["state-b/true"]);

    await b.member.updateMeta(meta("host-b", true));
    const update = await until("a sees b ready", () =>
      a.events.find((e) => e.type === "update" && e.node.name === b.member.name),
    );
    expect(update.node.meta?.ready).toBe(true);
    expect(update.node.incarnation).toBe(2);

    const leaveAt = Date.now();
    await b.member.leave();
    const left = await until("a sees b leave", () =>
      a.events.find((e) => e.type === "leave" && e.node.name === b.member.name),
    );
    expect(left.node.state).toBe("left");
    expect(left.at - leaveAt).toBeLessThan(1000);
    await b.member.shutdown();
    expect((b.member as unknown as { timers: { size: number } }).timers.size).toBe(0);
    await expect(b.member.join([`127.0.0.1:${a.member.port}`])).rejects.toThrow(/shutdown/);
  });

  it("detects a member that vanished without leaving: suspect, then dead", async () => {
    const a = await start("a", FAST);
    const b = await start("b", FAST);
    await b.member.join([`127.0.0.1:${a.member.port}`]);
    await until("a sees b", () => a.events.find((e) => e.node.name === b.member.name));
    await b.member.shutdown();
    await until("a suspects b", () =>
      a.member.members().find((n) => n.name === b.member.name && n.state === "suspect"),
    );
    const dead = await until(
      "a declares b dead",
      () => a.events.find((e) => e.type === "leave" && e.node.name === b.member.name),
      5000,
    );
    expect(dead.node.state).toBe("dead");
    expect(a.member.members().map((n) => n.name)).toEqual([a.member.name]);
  });

  it("relays indirect pings: ack back to the requester, or a nack when the target stays silent", async () => {
    const { member } = await start("relay", { keys: [], enableCompression: false, probeTimeoutMs: 100 });
    const replies: { type: number; seqNo: number }[] = [];
    const requester = await udpSocket((msg) => {
      for (const m of messagesIn(msg)) {
        if (m[0] === MessageType.ackResp)
          replies.push({ type: m[0], seqNo: ackRespCodec.decode(m.subarray(1)).value.seqNo });
        if (m[0] === MessageType.nackResp)
          replies.push({ type: m[0], seqNo: nackRespCodec.decode(m.subarray(1)).value.seqNo });
      }
    });
    let answer = true;
    const pingsSeen: string[] = [];
    const target = await udpSocket((msg, _from, socket) => {
      for (const m of messagesIn(msg)) {
        if (m[0] !== MessageType.ping) continue;
        const ping = pingCodec.decode(m.subarray(1)).value;
        pingsSeen.push(ping.node);
        if (answer) {
          const ack = ackRespCodec.message({ seqNo: ping.seqNo, payload: new Uint8Array() });
          socket.send(ack, ping.sourcePort!, "127.0.0.1");
        }
      }
    });
    const ask = (seqNo: number) =>
      requester.socket.send(
        indirectPingCodec.message({
          seqNo,
          target: Buffer.from([127, 0, 0, 1]),
          port: target.port,
          node: "target-node",
          nack: true,
          sourceAddr: Buffer.from([127, 0, 0, 1]),
          sourcePort: requester.port,
          sourceNode: "requester",
        }),
        member.port,
        "127.0.0.1",
      );
    ask(77);
    await until("relayed ack", () => replies.find((r) => r.seqNo === 77));
    expect(replies).toEqual([{ type: MessageType.ackResp, seqNo: 77 }]);
    expect(pingsSeen).toEqual(["target-node"]);
    answer = false;
    ask(78);
    await until("nack", () => replies.find((r) => r.seqNo === 78));
    expect(replies[1]).toEqual({ type: MessageType.nackResp, seqNo: 78 });
  });

  it("falls back to a TCP ping when UDP probes go unanswered, and suspects the node once TCP fails too", async () => {
    const a = await start("a", { ...FAST, keys: [] });
    // A peer whose UDP socket drops everything but whose TCP listener answers pings, on one port.
    let tcpPings = 0;
    const server = net.createServer((socket) => {
      let received = Buffer.alloc(0);
      socket.on("data", (chunk) => {
        received = Buffer.concat([received, chunk]);
        const codec = { compress: true, verifyIncoming: false, maxBytes: 1 << 20 };
        const message = readStreamMessage(received, codec);
        if (message?.type !== MessageType.ping) return;
        tcpPings++;
        const ping = pingCodec.decode(message.body).value;
        socket.end(
          encodeStreamMessage(ackRespCodec.message({ seqNo: ping.seqNo, payload: new Uint8Array() }), codec),
        );
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as net.AddressInfo).port;
    const udp = dgram.createSocket("udp4");
    await new Promise<void>((resolve) => udp.bind(port, "127.0.0.1", resolve));
    cleanup.push(() => new Promise<void>((resolve) => udp.close(() => resolve())));
    cleanup.push(() => new Promise<void>((resolve) => server.close(() => resolve())));

    // It joins `a` with a push/pull naming itself (protocol 1..5, so TCP pings apply).
    const self = {
      name: "udp-deaf",
      addr: Buffer.from([127, 0, 0, 1]),
      port,
      meta: Buffer.alloc(0),
      incarnation: 1,
      state: 0 as const,
      vsn: Uint8Array.from([1, 5, 2, 0, 0, 0]),
    };
    const reply = await streamExchange(a.member.port, buildPushPull(true, [self], Buffer.alloc(0)));
    expect(reply.type).toBe(MessageType.pushPull);
    expect(parsePushPull(reply.body, { maxNodes: 10, maxUserState: 100 }).nodes.map((n) => n.name)).toEqual([
      a.member.name,
    ]);
    await until("a sees the peer", () => a.events.find((e) => e.node.name === "udp-deaf"));

    await until("a TCP ping", () => tcpPings >= 2, 3000);
    expect(a.logs.some((l) => /was able to connect over TCP/.test(l.message))).toBe(true);
    expect(a.member.members().find((n) => n.name === "udp-deaf")?.state).toBe("alive");

    server.close();
    const dead = await until(
      "the peer declared dead",
      () => a.events.find((e) => e.type === "leave" && e.node.name === "udp-deaf"),
      5000,
    );
    expect(dead.node.state).toBe("dead");
  });

  it("answers TCP pings and user messages, and tells a peer what was wrong with its stream", async () => {
    const { member } = await start("tcp", { keys: [], enableCompression: false });
    const ack = await streamExchange(member.port, pingCodec.message({ seqNo: 5, node: member.name }));
    expect(ack.type).toBe(MessageType.ackResp);
    expect(ackRespCodec.decode(ack.body).value.seqNo).toBe(5);

    const messages: string[] = [];
    member.on("message", (payload) => messages.push(payload.toString()));
    const user = Buffer.concat([userMsgHeaderCodec.message({ userMsgLen: 5 }), Buffer.from("hello")]);
    await streamExchange(member.port, user).catch(() => undefined);
    await until("user message", () => messages.length === 1);
    expect(messages).toEqual(["hello"]);

    const err = await streamExchange(member.port, Buffer.from([99, 1, 2, 3]));
    expect(err.type).toBe(MessageType.err);
    expect(err.body.toString()).toContain("received invalid msgType (99)");
  });

  it("validates its options and explains failed joins", async () => {
    const codeOf = (fn: () => unknown) => {
      try {
        fn();
      } catch (e) {
        return isPluginSdkError(e) ? e.code : String(e);
      }
      return "ok";
    };
    expect(codeOf(() => new Member({ meta: meta("h"), keys: [randomBytes(7)] }))).toBe("INVALID_KEY");
    expect(codeOf(() => new Member({ meta: meta("h".repeat(600)) }))).toBe("META_TOO_LARGE");
    expect(codeOf(() => new Member({ meta: meta("h"), probeIntervalMs: 0 }))).toBe("INVALID_OPTION");
    const { member } = await start("lonely");
    await expect(member.updateMeta(meta("x".repeat(600)))).rejects.toThrow(/allows 512/);
    const closed = net.createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const port = (closed.address() as net.AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    await expect(member.join([`127.0.0.1:${port}`, "no port:x"])).rejects.toThrow(
      new RegExp(
        `no peer has been joined: 127\\.0\\.0\\.1:${port}: cannot connect.*; no port:x: not a peer address`,
      ),
    );
    // Alone, leave and updateMeta return at once (nobody to tell).
    await member.updateMeta(meta("lonely", true));
    await member.leave();
  });
});
