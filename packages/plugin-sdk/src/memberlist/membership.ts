import { formatAddr } from "./addresses.js";
import type { BroadcastQueue } from "./broadcast-queue.js";
import type { GossipLogger } from "./logger.js";
import {
  type Alive,
  aliveCodec,
  type Dead,
  deadCodec,
  NodeStateType,
  type NodeStateTypeValue,
  type PushNodeState,
  type Suspect,
  suspectCodec,
} from "./messages.js";
import { Suspicion, suspicionTimeoutMs } from "./suspicion.js";
import type { Timers } from "./timers.js";

/**
 * The membership state machine of memberlist (state.go: aliveNode, suspectNode, deadNode, refute,
 * mergeState), without sockets: it updates the node table, queues broadcasts and reports joins, leaves
 * and updates. Incarnation numbers order the claims about a node; a node refutes claims about itself
 * with a higher incarnation.
 */

export interface NodeRecord {
  name: string;
  /** 4 bytes (IPv4) or 16 bytes (IPv6), as on the wire. */
  addr: Buffer;
  port: number;
  meta: Buffer;
  incarnation: number;
  state: NodeStateTypeValue;
  /** Date.now() of the last state change. */
  stateChange: number;
  /** pmin, pmax, pcur, dmin, dmax, dcur. */
  vsn: Uint8Array;
}

export interface MembershipOptions {
  selfName: string;
  broadcasts: BroadcastQueue;
  timers: Timers;
  logger: GossipLogger;
  probeIntervalMs: number;
  suspicionMult: number;
  suspicionMaxTimeoutMult: number;
  gossipToTheDeadTimeMs: number;
  onJoin(node: NodeRecord): void;
  onLeave(node: NodeRecord): void;
  onUpdate(node: NodeRecord): void;
  /** A claim about us was refuted with this new incarnation. */
  onRefute?(incarnation: number, reason: string): void;
}

export class Membership {
  private readonly byName = new Map<string, NodeRecord>();
  /** Probe order; shuffled on every pass. */
  private order: NodeRecord[] = [];
  private readonly suspicions = new Map<string, Suspicion>();
  private incarnation = 0;
  /** Set by `leave`: from then on we neither refute nor accept alive claims about ourselves. */
  leaving = false;

  constructor(private readonly options: MembershipOptions) {}

  get self(): NodeRecord | undefined {
    return this.byName.get(this.options.selfName);
  }

  get(name: string): NodeRecord | undefined {
    return this.byName.get(name);
  }

  /** Every known node, dead ones included until reaped (memberlist's `nodes`). */
  all(): readonly NodeRecord[] {
    return this.order;
  }

  /** memberlist's estNumNodes. */
  get size(): number {
    return this.order.length;
  }

  nextIncarnation(): number {
    this.incarnation++;
    return this.incarnation;
  }

  /** True when a node other than us is neither dead nor left. */
  anyAlive(): boolean {
    return this.order.some((n) => n.name !== this.options.selfName && !isDeadOrLeft(n));
  }

  /** Removes nodes dead or left for longer than gossipToTheDeadTime, then shuffles the probe order. */
  reap(now = Date.now()): void {
    const keep: NodeRecord[] = [];
    for (const node of this.order) {
      if (isDeadOrLeft(node) && now - node.stateChange > this.options.gossipToTheDeadTimeMs) {
        this.byName.delete(node.name);
        this.suspicions.get(node.name)?.cancel();
        this.suspicions.delete(node.name);
      } else keep.push(node);
    }
    for (let i = keep.length - 1; i > 0; i--) {
      const j = Math.floor(Math.random() * (i + 1));
      [keep[i], keep[j]] = [keep[j]!, keep[i]!];
    }
    this.order = keep;
  }

  /** Up to `k` distinct random nodes that `accept` takes. */
  randomNodes(k: number, accept: (node: NodeRecord) => boolean): NodeRecord[] {
    const candidates = this.order.filter(accept);
    for (let i = candidates.length - 1; i > 0; i--) {
      const j = Math.floor(Math.random() * (i + 1));
      [candidates[i], candidates[j]] = [candidates[j]!, candidates[i]!];
    }
    return candidates.slice(0, k);
  }

  private broadcast(node: string, message: Buffer, onDone?: () => void): void {
    this.options.broadcasts.queue(node, message, onDone);
  }

  private cancelSuspicion(name: string): void {
    this.suspicions.get(name)?.cancel();
    this.suspicions.delete(name);
  }

  /**
   * Handles an alive claim. `bootstrap` marks our own announcements (start, meta updates), which are
   * applied and broadcast; `onBroadcastDone` runs once that broadcast has been gossiped enough.
   */
  aliveNode(a: Alive, bootstrap: boolean, onBroadcastDone?: () => void): void {
    const { selfName, logger } = this.options;
    const isLocal = a.node === selfName;
    if (this.leaving && isLocal) return;
    if (a.vsn.length >= 3) {
      const [pmin, pmax] = [a.vsn[0]!, a.vsn[1]!];
      if (pmin === 0 || pmax === 0 || pmin > pmax) {
        logger.warn(
          { node: a.node, vsn: [...a.vsn] },
          "ignoring an alive message with wrong protocol versions",
        );
        return;
      }
    }
    let state = this.byName.get(a.node);
    let updatesNode = false;
    if (!state) {
      state = {
        name: a.node,
        addr: Buffer.from(a.addr),
        port: a.port,
        meta: Buffer.from(a.meta),
        incarnation: 0,
        state: NodeStateType.dead,
        stateChange: Date.now(),
        vsn: a.vsn.length > 5 ? Uint8Array.from(a.vsn.subarray(0, 6)) : new Uint8Array(6),
      };
      this.byName.set(a.node, state);
      const at = Math.floor(Math.random() * (this.order.length + 1));
      this.order.splice(at, 0, state);
    } else if (!state.addr.equals(a.addr) || state.port !== a.port) {
      if (state.state === NodeStateType.left) {
        updatesNode = true;
      } else {
        logger.warn(
          {
            node: a.node,
            mine: `${formatAddr(state.addr)}:${state.port}`,
            theirs: `${formatAddr(a.addr)}:${a.port}`,
          },
          "conflicting address for a node",
        );
        return;
      }
    }
    if (a.incarnation <= state.incarnation && !isLocal && !updatesNode) return;
    if (a.incarnation < state.incarnation && isLocal) return;
    this.cancelSuspicion(a.node);
    const oldState = state.state;
    const oldMeta = state.meta;
    if (!bootstrap && isLocal) {
      if (
        a.incarnation === state.incarnation &&
        state.meta.equals(a.meta) &&
        Buffer.from(state.vsn).equals(a.vsn)
      ) {
        return;
      }
      this.refute(state, a.incarnation, "alive message with other meta or versions");
    } else {
      this.broadcast(a.node, aliveCodec.message(a), onBroadcastDone);
      if (a.vsn.length > 5) state.vsn = Uint8Array.from(a.vsn.subarray(0, 6));
      state.incarnation = a.incarnation;
      state.meta = Buffer.from(a.meta);
      state.addr = Buffer.from(a.addr);
      state.port = a.port;
      if (state.state !== NodeStateType.alive) {
        state.state = NodeStateType.alive;
        state.stateChange = Date.now();
      }
    }
    if (oldState === NodeStateType.dead || oldState === NodeStateType.left) this.options.onJoin(state);
    else if (!oldMeta.equals(state.meta)) this.options.onUpdate(state);
  }

  suspectNode(s: Suspect): void {
    const { selfName, timers, logger } = this.options;
    const state = this.byName.get(s.node);
    if (!state || s.incarnation < state.incarnation) return;
    const timer = this.suspicions.get(s.node);
    if (timer) {
      if (timer.confirm(s.from)) this.broadcast(s.node, suspectCodec.message(s));
      return;
    }
    if (state.state !== NodeStateType.alive) return;
    if (state.name === selfName) {
      this.refute(state, s.incarnation, `suspected by ${s.from}`);
      return;
    }
    this.broadcast(s.node, suspectCodec.message(s));
    state.incarnation = s.incarnation;
    state.state = NodeStateType.suspect;
    const changeTime = Date.now();
    state.stateChange = changeTime;
    const n = this.size;
    const k = n - 2 < this.options.suspicionMult - 2 ? 0 : this.options.suspicionMult - 2;
    const min = suspicionTimeoutMs(this.options.suspicionMult, n, this.options.probeIntervalMs);
    const max = this.options.suspicionMaxTimeoutMult * min;
    const suspicion = new Suspicion(s.from, k, min, max, timers, (confirmations) => {
      const current = this.byName.get(s.node);
      if (current && current.state === NodeStateType.suspect && current.stateChange === changeTime) {
        logger.info({ node: s.node, confirmations }, "marking node as failed, suspect timeout reached");
        this.deadNode({ incarnation: current.incarnation, node: current.name, from: selfName });
      }
    });
    this.suspicions.set(s.node, suspicion);
  }

  deadNode(d: Dead, onBroadcastDone?: () => void): void {
    const { selfName } = this.options;
    const state = this.byName.get(d.node);
    if (!state || d.incarnation < state.incarnation) return;
    this.cancelSuspicion(d.node);
    if (isDeadOrLeft(state)) return;
    if (state.name === selfName) {
      if (!this.leaving) {
        this.refute(state, d.incarnation, `declared dead by ${d.from}`);
        return;
      }
      this.broadcast(d.node, deadCodec.message(d), onBroadcastDone);
    } else {
      this.broadcast(d.node, deadCodec.message(d));
    }
    state.incarnation = d.incarnation;
    state.state = d.node === d.from ? NodeStateType.left : NodeStateType.dead;
    state.stateChange = Date.now();
    this.options.onLeave(state);
  }

  /** Applies the node states of a push/pull (memberlist's mergeState). */
  mergeState(remote: readonly PushNodeState[]): void {
    for (const r of remote) {
      switch (r.state) {
        case NodeStateType.alive:
          this.aliveNode(
            {
              incarnation: r.incarnation,
              node: r.name,
              addr: r.addr,
              port: r.port,
              meta: r.meta,
              vsn: r.vsn,
            },
            false,
          );
          break;
        case NodeStateType.left:
          this.deadNode({ incarnation: r.incarnation, node: r.name, from: r.name });
          break;
        case NodeStateType.dead:
        case NodeStateType.suspect:
          this.suspectNode({ incarnation: r.incarnation, node: r.name, from: this.options.selfName });
          break;
      }
    }
  }

  /** Our node states for a push/pull. */
  pushStates(): PushNodeState[] {
    return this.order.map((n) => ({
      name: n.name,
      addr: n.addr,
      port: n.port,
      meta: n.meta,
      incarnation: n.incarnation,
      state: n.state,
      vsn: n.vsn,
    }));
  }

  /**
   * memberlist's verifyProtocol: every alive node's current protocol version must lie inside the range
   * all alive nodes (remote and local) understand. Returns the problem, or undefined.
   */
  checkProtocol(remote: readonly PushNodeState[]): string | undefined {
    let maxPmin = 0;
    let minPmax = 255;
    let maxDmin = 0;
    let minDmax = 255;
    const consider = (vsn: Uint8Array) => {
      maxPmin = Math.max(maxPmin, vsn[0]!);
      minPmax = Math.min(minPmax, vsn[1]!);
      maxDmin = Math.max(maxDmin, vsn[3]!);
      minDmax = Math.min(minDmax, vsn[4]!);
    };
    for (const r of remote) if (r.state === NodeStateType.alive && r.vsn.length >= 6) consider(r.vsn);
    for (const n of this.order) if (n.state === NodeStateType.alive) consider(n.vsn);
    const all = [
      ...remote.map((r) => ({ name: r.name, vsn: r.vsn.length >= 6 ? r.vsn : new Uint8Array(6) })),
      ...this.order.map((n) => ({ name: n.name, vsn: n.vsn })),
    ];
    for (const { name, vsn } of all) {
      const [pcur, dcur] = [vsn[2]!, vsn[5]!];
      if (pcur < maxPmin || pcur > minPmax) {
        return `node '${name}' protocol version (${pcur}) is incompatible: [${maxPmin}, ${minPmax}]`;
      }
      if (dcur < maxDmin || dcur > minDmax) {
        return `node '${name}' delegate protocol version (${dcur}) is incompatible: [${maxDmin}, ${minDmax}]`;
      }
    }
    return undefined;
  }

  private refute(me: NodeRecord, accused: number, reason: string): void {
    let inc = this.nextIncarnation();
    if (accused >= inc) {
      this.incarnation = accused + 1;
      inc = this.incarnation;
    }
    me.incarnation = inc;
    const a: Alive = {
      incarnation: inc,
      node: me.name,
      addr: me.addr,
      port: me.port,
      meta: me.meta,
      vsn: me.vsn,
    };
    this.broadcast(me.name, aliveCodec.message(a));
    this.options.logger.warn({ incarnation: inc, reason }, "refuting a claim about this node");
    this.options.onRefute?.(inc, reason);
  }

  /** Cancels every suspicion timer (shutdown). */
  close(): void {
    for (const s of this.suspicions.values()) s.cancel();
    this.suspicions.clear();
  }
}

export function isDeadOrLeft(node: NodeRecord): boolean {
  return node.state === NodeStateType.dead || node.state === NodeStateType.left;
}
