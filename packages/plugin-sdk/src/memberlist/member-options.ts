import { randomUUID } from "node:crypto";
import type { BeskarMeta } from "../beskar-meta.js";
import { PluginSdkError } from "../errors.js";
import { defaultAdvertiseAddress, isUnspecified } from "./addresses.js";
import { decodeBase64Key, Keyring } from "./keyring.js";
import { type GossipLogger, silentLogger } from "./logger.js";

/** What a member exchanges as user state in TCP push/pulls (memberlist's Delegate.LocalState/MergeRemoteState). */
export interface StateDelegate {
  /** The user state to send; `join` is true when the push/pull is a join. */
  localState(join: boolean): Uint8Array | undefined;
  /** Called with the user state a peer sent (never with an empty one). */
  mergeRemoteState(state: Buffer, join: boolean): void;
  /** For `Member.localState`/`remoteState`; optional. */
  readonly currentLocalState?: Buffer | undefined;
  readonly currentRemoteState?: Buffer | undefined;
}

/**
 * Beskar's gossip delegate (internal/pkg/gossip/member_delegate.go): the local state (the CA JSON) is
 * sent only in join push/pulls; the first user state received in a join becomes the remote state, and
 * the local state too when there was none.
 */
export class BeskarStateDelegate implements StateDelegate {
  currentLocalState: Buffer | undefined;
  currentRemoteState: Buffer | undefined;

  constructor(localState?: Uint8Array) {
    this.currentLocalState = localState ? Buffer.from(localState) : undefined;
  }

  localState(join: boolean): Uint8Array | undefined {
    return join ? this.currentLocalState : undefined;
  }

  mergeRemoteState(state: Buffer, join: boolean): void {
    if (!join || this.currentRemoteState) return;
    this.currentLocalState ??= state;
    this.currentRemoteState = state;
  }
}

/** How a `Member` is configured. Defaults are memberlist's `DefaultLANConfig()`, as Beskar uses it. */
export interface MemberOptions {
  /** This node's metadata, gob-encoded into the memberlist node Meta (at most 512 bytes). Required. */
  meta: BeskarMeta;
  /** Node name. Default: a random UUID, as Beskar (the hostname travels in the meta). */
  name?: string;
  /** Address the UDP and TCP sockets bind to. Default "0.0.0.0". */
  bindAddress?: string;
  /** Port for both sockets; 0 lets the OS choose (read it back from `Member.port`). Default 0. */
  bindPort?: number;
  /** Address announced to peers. Default: the bind address, or a private IPv4 of this host when unspecified. */
  advertiseAddress?: string;
  /** Port announced to peers. Default: the bound port. */
  advertisePort?: number;
  /**
   * Gossip keys, base64 (Beskar's `gossip.key`) or raw; the first one encrypts, all are tried to decrypt.
   * 16, 24 or 32 bytes each. Default: none, i.e. no encryption (Beskar always sets one).
   */
  keys?: readonly (string | Uint8Array)[];
  /** With keys, refuse plaintext packets and streams (GossipVerifyIncoming). Default true. */
  verifyIncoming?: boolean;
  /** With keys, encrypt what we send (GossipVerifyOutgoing). Default true. */
  verifyOutgoing?: boolean;
  /** User state for join push/pulls (Beskar: the CA JSON, see `encodeCaState`). Default none. */
  localState?: Uint8Array;
  /** Replaces Beskar's push/pull semantics (`BeskarStateDelegate`); `localState` is ignored then. */
  stateDelegate?: StateDelegate;
  /** Failure detection period (ProbeInterval). Default 1000 ms. */
  probeIntervalMs?: number;
  /** How long to wait for a direct ack before indirect probes (ProbeTimeout). Default 500 ms. */
  probeTimeoutMs?: number;
  /** Gossip period (GossipInterval). Default 200 ms. */
  gossipIntervalMs?: number;
  /** Nodes gossiped to per period (GossipNodes). Default 3. */
  gossipNodes?: number;
  /** Dead nodes are still gossiped to, and kept, for this long (GossipToTheDeadTime). Default 30000 ms. */
  gossipToTheDeadTimeMs?: number;
  /** Anti-entropy push/pull period; 0 disables (PushPullInterval). Default 30000 ms. */
  pushPullIntervalMs?: number;
  /** TCP connect + exchange timeout (TCPTimeout). Default 10000 ms. */
  tcpTimeoutMs?: number;
  /** Nodes asked for indirect probes (IndirectChecks). Default 3. */
  indirectChecks?: number;
  /** Broadcast retransmissions = this × ceil(log10(n + 1)) (RetransmitMult). Default 4. */
  retransmitMult?: number;
  /** Suspicion timeout multiplier (SuspicionMult). Default 4. */
  suspicionMult?: number;
  /** Upper bound of the suspicion timeout, as a multiple of its minimum (SuspicionMaxTimeoutMult). Default 6. */
  suspicionMaxTimeoutMult?: number;
  /** Largest UDP payload we build (UDPBufferSize). Default 1400. */
  udpBufferSize?: number;
  /** LZW-compress what we send (EnableCompression). Default true. */
  enableCompression?: boolean;
  /** Do not fall back to TCP pings for peers speaking protocol ≥ 3 (DisableTcpPings). Default false. */
  disableTcpPings?: boolean;
  /** Largest TCP message accepted, encrypted frame or decompressed (memberlist: 20 MiB). Default 20 MiB. */
  maxStreamBytes?: number;
  /** Most node states accepted in one push/pull. Default 4096. */
  maxPushPullNodes?: number;
  /** Where the member logs. Default: nowhere. */
  logger?: GossipLogger;
}

export type ResolvedMemberOptions = Required<
  Omit<MemberOptions, "keys" | "localState" | "stateDelegate" | "advertiseAddress" | "advertisePort">
> & {
  keyring: Keyring | undefined;
  stateDelegate: StateDelegate;
  advertiseAddress: string;
  advertisePort: number | undefined;
};

export function resolveMemberOptions(options: MemberOptions): ResolvedMemberOptions {
  if (!options?.meta) throw new PluginSdkError("INVALID_OPTION", "Member options need `meta`");
  const keys = options.keys ?? [];
  const keyring =
    keys.length === 0
      ? undefined
      : new Keyring(keys.map((k, i) => (typeof k === "string" ? decodeBase64Key(k, i) : k)));
  const bindAddress = options.bindAddress ?? "0.0.0.0";
  const resolved: ResolvedMemberOptions = {
    meta: options.meta,
    name: options.name ?? randomUUID(),
    bindAddress,
    bindPort: options.bindPort ?? 0,
    advertiseAddress:
      options.advertiseAddress ?? (isUnspecified(bindAddress) ? defaultAdvertiseAddress() : bindAddress),
    advertisePort: options.advertisePort,
    keyring,
    verifyIncoming: options.verifyIncoming ?? true,
    verifyOutgoing: options.verifyOutgoing ?? true,
    stateDelegate: options.stateDelegate ?? new BeskarStateDelegate(options.localState),
    probeIntervalMs: options.probeIntervalMs ?? 1000,
    probeTimeoutMs: options.probeTimeoutMs ?? 500,
    gossipIntervalMs: options.gossipIntervalMs ?? 200,
    gossipNodes: options.gossipNodes ?? 3,
    gossipToTheDeadTimeMs: options.gossipToTheDeadTimeMs ?? 30_000,
    pushPullIntervalMs: options.pushPullIntervalMs ?? 30_000,
    tcpTimeoutMs: options.tcpTimeoutMs ?? 10_000,
    indirectChecks: options.indirectChecks ?? 3,
    retransmitMult: options.retransmitMult ?? 4,
    suspicionMult: options.suspicionMult ?? 4,
    suspicionMaxTimeoutMult: options.suspicionMaxTimeoutMult ?? 6,
    udpBufferSize: options.udpBufferSize ?? 1400,
    enableCompression: options.enableCompression ?? true,
    disableTcpPings: options.disableTcpPings ?? false,
    maxStreamBytes: options.maxStreamBytes ?? 20 * 1024 * 1024,
    maxPushPullNodes: options.maxPushPullNodes ?? 4096,
    logger: options.logger ?? silentLogger,
  };
  const positive: (keyof ResolvedMemberOptions)[] = [
    "probeIntervalMs",
    "probeTimeoutMs",
    "gossipIntervalMs",
    "tcpTimeoutMs",
    "retransmitMult",
    "suspicionMult",
    "suspicionMaxTimeoutMult",
    "udpBufferSize",
    "maxStreamBytes",
    "maxPushPullNodes",
  ];
  for (const key of positive) {
    const v = resolved[key];
    if (typeof v !== "number" || !Number.isFinite(v) || v <= 0) {
      throw new PluginSdkError(
        "INVALID_OPTION",
        `Member option ${key} must be a positive number, got ${String(v)}`,
      );
    }
  }
  if (!Number.isInteger(resolved.bindPort) || resolved.bindPort < 0 || resolved.bindPort > 65535) {
    throw new PluginSdkError("INVALID_OPTION", `bindPort must be 0..65535, got ${resolved.bindPort}`);
  }
  if (resolved.probeTimeoutMs > resolved.probeIntervalMs) {
    throw new PluginSdkError("INVALID_OPTION", "probeTimeoutMs must not exceed probeIntervalMs");
  }
  return resolved;
}
