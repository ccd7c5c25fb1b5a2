import { lookup } from "node:dns/promises";
import * as net from "node:net";
import type { BeskarMeta } from "../beskar-meta.js";
import { isPluginSdkError, PluginSdkError } from "../errors.js";
import { encodeBeskarMeta } from "../gob.js";
import { TypedEmitter } from "../typed-emitter.js";
import { AckRegistry } from "./ack-registry.js";
import { formatAddr, parseIp, splitHostPort } from "./addresses.js";
import { BroadcastQueue } from "./broadcast-queue.js";
import { FailureDetector } from "./failure-detector.js";
import { type Advertise, describeError, type MemberContext } from "./member-context.js";
import { type MemberNode, toMemberNode } from "./member-node.js";
import { type MemberOptions, type ResolvedMemberOptions, resolveMemberOptions } from "./member-options.js";
import { isDeadOrLeft, Membership } from "./membership.js";
import {
  ackRespCodec,
  aliveCodec,
  deadCodec,
  indirectPingCodec,
  MessageType,
  messageTypeName,
  NodeStateType,
  nackRespCodec,
  pingCodec,
  suspectCodec,
} from "./messages.js";
import { decodePacket, decompressMessage, splitCompound } from "./packet.js";
import { PacketSender } from "./packet-sender.js";
import { PushPullExchange } from "./push-pull.js";
import type { StreamCodecOptions } from "./stream.js";
import { Timers } from "./timers.js";
import { type PacketSource, Transport } from "./transport.js";

/** memberlist's MetaMaxSize. */
export const META_MAX_SIZE = 512;
/** Protocol versions we speak: [pmin, pmax, pcur, dmin, dmax, dcur], as Go's DefaultLANConfig. */
const VSN = Uint8Array.from([1, 5, 2, 0, 0, 0]);
/** Decompressed size accepted for one UDP packet. */
const MAX_PACKET_PLAIN = 256 * 1024;
const PUSH_PULL_SCALE_THRESHOLD = 32;

/** Events of a `Member`, with their arguments. */
export interface MemberEvents {
  /** A node joined (or came back); our own node is reported too, with `local: true`. */
  join: [node: MemberNode];
  /** A node left (state "left") or was declared dead (state "dead"). */
  leave: [node: MemberNode];
  /** A node's meta changed (for Beskar: e.g. Ready turned true). */
  update: [node: MemberNode];
  /** User state received in a push/pull (Beskar: the CA JSON). */
  remoteState: [state: Buffer, join: boolean];
  /** A user message (memberlist's NotifyMsg). */
  message: [payload: Buffer];
  /** One of our direct probes was acknowledged (memberlist's PingDelegate.NotifyPingComplete). */
  pingComplete: [node: MemberNode, rttMs: number];
  /** Someone claimed we were suspect, dead or different; we answered with a higher incarnation. */
  refute: [incarnation: number, reason: string];
}

/**
 * A memberlist-compatible cluster member carrying Beskar's gob `BeskarMeta` as node meta: the gossip
 * half of Beskar's plugin contract. Speaks memberlist protocol 2 (understands 1–5) as Go's
 * `DefaultLANConfig()`: UDP probes/acks/indirect probes, alive/suspect/dead with incarnations, piggybacked
 * broadcasts, TCP push/pull (join and anti-entropy), LZW compression and AES-GCM keyring encryption.
 *
 * Usage: `new Member(options)`, attach listeners, `await start()`, `await join(peers)`; at the end
 * `await leave()` then `await shutdown()`.
 */
export class Member extends TypedEmitter<MemberEvents> {
  private readonly opts: ResolvedMemberOptions;
  private readonly timers = new Timers();
  private readonly broadcasts: BroadcastQueue;
  private readonly membership: Membership;
  private readonly acks: AckRegistry;
  private readonly sender: PacketSender;
  private readonly detector: FailureDetector;
  private readonly pushPull: PushPullExchange;
  /** Rejecters of pending leave/updateMeta waits, called on shutdown. */
  private readonly waiters = new Set<(err: Error) => void>();
  private transport: Transport | undefined;
  private status: "new" | "starting" | "running" | "shutdown" = "new";
  private metaBytes: Buffer;
  private advertise: Advertise = { address: "", addr: Buffer.alloc(4), port: 0 };

  constructor(options: MemberOptions) {
    super();
    this.opts = resolveMemberOptions(options);
    this.metaBytes = encodeMeta(this.opts.meta);
    this.broadcasts = new BroadcastQueue(this.opts.retransmitMult, () => this.membership.size);
    this.membership = new Membership({
      selfName: this.opts.name,
      broadcasts: this.broadcasts,
      timers: this.timers,
      logger: this.opts.logger,
      probeIntervalMs: this.opts.probeIntervalMs,
      suspicionMult: this.opts.suspicionMult,
      suspicionMaxTimeoutMult: this.opts.suspicionMaxTimeoutMult,
      gossipToTheDeadTimeMs: this.opts.gossipToTheDeadTimeMs,
      onJoin: (n) => this.emit("join", toMemberNode(n, this.opts.name)),
      onLeave: (n) => this.emit("leave", toMemberNode(n, this.opts.name)),
      onUpdate: (n) => this.emit("update", toMemberNode(n, this.opts.name)),
      onRefute: (inc, reason) => this.emit("refute", inc, reason),
    });
    this.acks = new AckRegistry(this.timers);
    this.sender = new PacketSender(this.opts, this.broadcasts, () => this.transport);
    const ctx = this.context();
    this.detector = new FailureDetector(ctx, (node, rtt) =>
      this.emit("pingComplete", toMemberNode(node, this.opts.name), rtt),
    );
    this.pushPull = new PushPullExchange(ctx, {
      onRemoteState: (state, join) => this.emit("remoteState", state, join),
      onUserMessage: (payload) => this.emit("message", payload),
    });
  }

  private context(): MemberContext {
    const member = this;
    const codec: StreamCodecOptions = {
      compress: this.opts.enableCompression,
      keyring: this.opts.keyring,
      verifyIncoming: this.opts.verifyIncoming,
      maxBytes: this.opts.maxStreamBytes,
    };
    return {
      opts: this.opts,
      timers: this.timers,
      membership: this.membership,
      acks: this.acks,
      sender: this.sender,
      codec,
      get advertise() {
        return member.advertise;
      },
      get running() {
        return member.status === "running";
      },
      get transport() {
        return member.transport;
      },
    };
  }

  protected override onListenerError(event: string, err: unknown): void {
    this.opts.logger.error({ event, err: describeError(err) }, "a member event listener threw");
  }

  /** This node's name. */
  get name(): string {
    return this.opts.name;
  }

  /** The bound port (UDP and TCP); 0 before `start()`. */
  get port(): number {
    return this.transport?.port ?? 0;
  }

  /** The advertised address and port (what peers use to reach us). */
  get advertised(): { address: string; port: number } {
    return { address: this.advertise.address, port: this.advertise.port };
  }

  /** Our push/pull user state, when the state delegate exposes it (Beskar's does). */
  get localState(): Buffer | undefined {
    return this.opts.stateDelegate.currentLocalState;
  }

  /** The user state received when joining, when the state delegate exposes it (Beskar's does). */
  get remoteState(): Buffer | undefined {
    return this.opts.stateDelegate.currentRemoteState;
  }

  /** Binds the sockets, announces ourselves (alive, incarnation 1) and starts probing and gossiping. */
  async start(): Promise<void> {
    if (this.status !== "new")
      throw new PluginSdkError("INVALID_OPTION", `start() on a ${this.status} member`);
    this.status = "starting";
    const transport = await Transport.open({
      bindAddress: this.opts.bindAddress,
      bindPort: this.opts.bindPort,
      logger: this.opts.logger,
      onPacket: (datagram, from) => this.onPacket(datagram, from),
      onStream: (socket) => void this.pushPull.serve(socket),
    });
    if ((this.status as string) === "shutdown") {
      await transport.close();
      throw new PluginSdkError("SHUT_DOWN", "the member was shut down while starting");
    }
    this.transport = transport;
    this.advertise = {
      address: this.opts.advertiseAddress,
      addr: parseIp(this.opts.advertiseAddress),
      port: this.opts.advertisePort ?? transport.port,
    };
    this.status = "running";
    this.membership.aliveNode(this.selfAlive(this.membership.nextIncarnation()), true);
    this.schedule();
    this.opts.logger.debug(
      { name: this.name, bind: `${this.opts.bindAddress}:${transport.port}`, advertise: this.advertised },
      "gossip member started",
    );
  }

  /**
   * Joins the cluster through each peer (`host:port`, `[v6]:port`, `host`) with a TCP push/pull, as
   * memberlist's Join. Resolves with the number of peers joined; rejects with `JOIN_FAILED` listing why
   * each failed when none could be joined.
   */
  async join(peers: readonly string[]): Promise<number> {
    this.assertRunning();
    let joined = 0;
    const failures: string[] = [];
    for (const peer of peers) {
      let addresses: string[];
      let port: number;
      try {
        const parsed = splitHostPort(peer, this.opts.bindPort || this.port);
        port = parsed.port;
        addresses = net.isIP(parsed.host)
          ? [parsed.host]
          : (await lookup(parsed.host, { all: true })).map((a) => a.address);
      } catch (err) {
        failures.push(`${peer}: ${describeError(err)}`);
        continue;
      }
      for (const address of addresses) {
        try {
          await this.pushPull.exchange(address, port, true);
          joined++;
        } catch (err) {
          failures.push(`${address}:${port}: ${describeJoinFailure(err)}`);
          this.opts.logger.warn({ peer: `${address}:${port}`, err: describeError(err) }, "failed to join");
        }
      }
    }
    if (joined === 0 && peers.length > 0) {
      throw new PluginSdkError("JOIN_FAILED", `no peer has been joined: ${failures.join("; ")}`, {
        failures,
      });
    }
    return joined;
  }

  /**
   * Replaces our meta and re-announces it with a higher incarnation (memberlist's UpdateNode); this is
   * how a plugin turns `ready`. Waits until the broadcast has been gossiped enough, or `timeoutMs`.
   */
  async updateMeta(meta: BeskarMeta, options: { timeoutMs?: number } = {}): Promise<void> {
    const bytes = encodeMeta(meta);
    this.metaBytes = bytes;
    if (this.status !== "running") return;
    const self = this.membership.self!;
    const done = new Promise<void>((resolve) => {
      this.membership.aliveNode(
        {
          incarnation: this.membership.nextIncarnation(),
          node: this.name,
          addr: self.addr,
          port: self.port,
          meta: bytes,
          vsn: VSN,
        },
        true,
        resolve,
      );
    });
    if (this.membership.anyAlive()) {
      await this.waitFor(done, options.timeoutMs ?? 2000, "timeout waiting for update broadcast");
    }
  }

  /**
   * Leaves gracefully (memberlist's Leave): broadcasts that we are dead, "from" ourselves, so peers see
   * a leave at once rather than a failure; waits until it has been gossiped or `timeoutMs` (default 5 s,
   * as Beskar). Keep the member running until then; `shutdown()` after.
   */
  async leave(options: { timeoutMs?: number } = {}): Promise<void> {
    this.assertRunning();
    if (this.membership.leaving) return;
    this.membership.leaving = true;
    const self = this.membership.self!;
    const done = new Promise<void>((resolve) => {
      this.membership.deadNode({ incarnation: self.incarnation, node: self.name, from: self.name }, resolve);
    });
    if (this.membership.anyAlive()) {
      await this.waitFor(done, options.timeoutMs ?? 5000, "timeout waiting for leave broadcast");
    }
  }

  /** Stops everything: timers, suspicion timers, sockets (open TCP connections included). Idempotent. */
  async shutdown(): Promise<void> {
    if (this.status === "shutdown") return;
    this.status = "shutdown";
    this.timers.clearAll();
    this.membership.close();
    this.broadcasts.clear();
    this.acks.clear();
    for (const reject of this.waiters) reject(new PluginSdkError("SHUT_DOWN", "the member was shut down"));
    this.waiters.clear();
    await this.transport?.close();
  }

  /** Nodes that are alive or suspect, ourselves included (memberlist's Members). */
  members(): MemberNode[] {
    return this.membership
      .all()
      .filter((n) => !isDeadOrLeft(n))
      .map((n) => toMemberNode(n, this.name));
  }

  /** Every known node, dead and left ones included until they are reaped. */
  allNodes(): MemberNode[] {
    return this.membership.all().map((n) => toMemberNode(n, this.name));
  }

  localNode(): MemberNode | undefined {
    const self = this.membership.self;
    return self ? toMemberNode(self, this.name) : undefined;
  }

  // ---------------------------------------------------------------------------------------------
  // Internals

  private assertRunning(): void {
    if (this.status !== "running") {
      throw new PluginSdkError(
        this.status === "shutdown" ? "SHUT_DOWN" : "INVALID_OPTION",
        `the member is ${this.status}`,
      );
    }
  }

  private selfAlive(incarnation: number) {
    return {
      incarnation,
      node: this.name,
      addr: this.advertise.addr,
      port: this.advertise.port,
      meta: this.metaBytes,
      vsn: VSN,
    };
  }

  private waitFor(done: Promise<void>, timeoutMs: number, message: string): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const settle = (err?: Error) => {
        this.timers.clear(timer);
        this.waiters.delete(settle);
        if (err) reject(err);
        else resolve();
      };
      const timer = this.timers.after(timeoutMs, () => settle(new PluginSdkError("TIMEOUT", message)));
      this.waiters.add(settle);
      void done.then(() => settle());
    });
  }

  /** Probe, gossip and push/pull loops, each first run at a random offset (memberlist's schedule). */
  private schedule(): void {
    const { probeIntervalMs, gossipIntervalMs, pushPullIntervalMs } = this.opts;
    const stagger = (ms: number) => Math.floor(Math.random() * ms);
    this.timers.after(stagger(probeIntervalMs), () => {
      this.timers.every(probeIntervalMs, () => void this.detector.tick());
      void this.detector.tick();
    });
    if (this.opts.gossipNodes > 0) {
      this.timers.after(stagger(gossipIntervalMs), () => {
        this.timers.every(gossipIntervalMs, () => this.gossip());
        this.gossip();
      });
    }
    if (pushPullIntervalMs > 0) {
      const loop = () => {
        void this.antiEntropy();
        const n = this.membership.size;
        const scale =
          n <= PUSH_PULL_SCALE_THRESHOLD
            ? 1
            : Math.ceil(Math.log2(n) - Math.log2(PUSH_PULL_SCALE_THRESHOLD)) + 1;
        this.timers.after(pushPullIntervalMs * scale, loop);
      };
      this.timers.after(stagger(pushPullIntervalMs), loop);
    }
  }

  /** Sends queued broadcasts to a few random live (or recently dead) nodes. */
  private gossip(): void {
    if (this.status !== "running") return;
    const now = Date.now();
    const targets = this.membership.randomNodes(this.opts.gossipNodes, (n) => {
      if (n.name === this.name) return false;
      if (n.state === NodeStateType.alive || n.state === NodeStateType.suspect) return true;
      return n.state === NodeStateType.dead && now - n.stateChange <= this.opts.gossipToTheDeadTimeMs;
    });
    for (const node of targets) {
      if (!this.sender.sendBroadcasts(node, formatAddr(node.addr))) return;
    }
  }

  /** Periodic full-state exchange with one random live node. */
  private async antiEntropy(): Promise<void> {
    if (this.status !== "running") return;
    const [node] = this.membership.randomNodes(
      1,
      (n) => n.name !== this.name && n.state === NodeStateType.alive,
    );
    if (!node) return;
    try {
      await this.pushPull.exchange(formatAddr(node.addr), node.port, false);
    } catch (err) {
      this.opts.logger.warn({ node: node.name, err: describeError(err) }, "push/pull failed");
    }
  }

  private onPacket(datagram: Buffer, from: PacketSource): void {
    if (this.status !== "running") return;
    let message: Buffer;
    try {
      message = decodePacket(datagram, {
        keyring: this.opts.keyring,
        verifyIncoming: this.opts.verifyIncoming,
      });
    } catch (err) {
      this.opts.logger.warn(
        { from: `${from.address}:${from.port}`, err: describeError(err) },
        "dropped a packet",
      );
      return;
    }
    this.handleCommand(message, from, Date.now(), 0);
  }

  /** Dispatches one packet message (memberlist's handleCommand). */
  private handleCommand(message: Buffer, from: PacketSource, at: number, depth: number): void {
    const type = message[0];
    const source = `${from.address}:${from.port}`;
    if (type === undefined || depth > 3) {
      this.opts.logger.warn({ from: source }, "dropped an empty or too deeply nested message");
      return;
    }
    const body = message.subarray(1);
    try {
      switch (type) {
        case MessageType.compound: {
          const { parts, truncated } = splitCompound(body);
          if (truncated > 0)
            this.opts.logger.warn({ from: source, truncated }, "compound message had truncated parts");
          for (const part of parts) this.handleCommand(part, from, at, depth + 1);
          return;
        }
        case MessageType.compress:
          this.handleCommand(decompressMessage(body, MAX_PACKET_PLAIN), from, at, depth + 1);
          return;
        case MessageType.ping:
          this.detector.handlePing(pingCodec.decode(body).value, from);
          return;
        case MessageType.indirectPing:
          this.detector.handleIndirectPing(indirectPingCodec.decode(body).value, from);
          return;
        case MessageType.ackResp: {
          const ack = ackRespCodec.decode(body).value;
          this.acks.ack(ack.seqNo, ack.payload, at);
          return;
        }
        case MessageType.nackResp:
          this.acks.nack(nackRespCodec.decode(body).value.seqNo);
          return;
        case MessageType.suspect:
          this.membership.suspectNode(suspectCodec.decode(body).value);
          return;
        case MessageType.alive: {
          const alive = aliveCodec.decode(body).value;
          if (alive.port === 0) alive.port = this.advertise.port;
          this.membership.aliveNode(alive, false);
          return;
        }
        case MessageType.dead:
          this.membership.deadNode(deadCodec.decode(body).value);
          return;
        case MessageType.user:
          this.emit("message", Buffer.from(body));
          return;
        default:
          this.opts.logger.warn(
            { type: messageTypeName(type), from: source },
            "unsupported packet message type",
          );
      }
    } catch (err) {
      this.opts.logger.warn(
        { type: messageTypeName(type), from: source, err: describeError(err) },
        "failed to handle a packet message",
      );
    }
  }
}

function encodeMeta(meta: BeskarMeta): Buffer {
  const bytes = encodeBeskarMeta(meta);
  if (bytes.length > META_MAX_SIZE) {
    throw new PluginSdkError(
      "META_TOO_LARGE",
      `node meta is ${bytes.length} bytes once gob-encoded; memberlist allows ${META_MAX_SIZE} (shorten the hostname)`,
      { bytes: bytes.length },
    );
  }
  return bytes;
}

function describeJoinFailure(err: unknown): string {
  if (isPluginSdkError(err, "DECRYPT_FAILED")) {
    return `cannot decrypt its reply: ${err.message}; check that both sides use the same gossip key`;
  }
  if (isPluginSdkError(err, "ENCRYPTION_MISMATCH"))
    return `${err.message}; check the gossip key on both sides`;
  return describeError(err);
}
