import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { BroadcastQueue } from "./broadcast-queue.js";
import { silentLogger } from "./logger.js";
import { Membership, type Membership as MembershipType } from "./membership.js";
import { type Alive, aliveCodec, deadCodec, MessageType, NodeStateType, suspectCodec } from "./messages.js";
import { Timers } from "./timers.js";

const VSN = Uint8Array.from([1, 5, 2, 0, 0, 0]);
const alive = (node: string, incarnation: number, meta = "m"): Alive => ({
  incarnation,
  node,
  addr: Buffer.from([10, 0, 0, node.charCodeAt(0) % 250]),
  port: 7946,
  meta: Buffer.from(meta),
  vsn: VSN,
});

function setup() {
  const events: string[] = [];
  const broadcasts = new BroadcastQueue(4, () => membership.size);
  const timers = new Timers();
  const membership: MembershipType = new Membership({
    selfName: "me",
    broadcasts,
    timers,
    logger: silentLogger,
    probeIntervalMs: 1000,
    suspicionMult: 4,
    suspicionMaxTimeoutMult: 6,
    gossipToTheDeadTimeMs: 30_000,
    onJoin: (n) => events.push(`join ${n.name} ${n.incarnation}`),
    onLeave: (n) => events.push(`leave ${n.name} ${["alive", "suspect", "dead", "left"][n.state]}`),
    onUpdate: (n) => events.push(`update ${n.name} ${n.meta}`),
    onRefute: (inc, reason) => events.push(`refute ${inc} ${reason}`),
  });
  membership.aliveNode(alive("me", membership.nextIncarnation()), true);
  /** Types of the broadcasts queued, in take order. */
  const sent = () =>
    broadcasts.take(0, 1 << 20).map((m) => {
      const body = m.subarray(1);
      if (m[0] === MessageType.alive) return `alive ${aliveCodec.decode(body).value.node}`;
      if (m[0] === MessageType.suspect) return `suspect ${suspectCodec.decode(body).value.node}`;
      return `dead ${deadCodec.decode(body).value.node}`;
    });
  const drain = () => {
    while (broadcasts.take(0, 1 << 20).length > 0);
  };
  return { membership, events, sent, drain, timers };
}

describe("Membership", () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("orders claims by incarnation: joins, updates on meta change, ignores stale alive", () => {
    const { membership, events } = setup();
    membership.aliveNode(alive("a", 1), false);
    membership.aliveNode(alive("a", 1, "other"), false); // same incarnation: ignored
    membership.aliveNode(alive("a", 2, "new"), false);
    membership.aliveNode(alive("a", 2, "x"), false);
    expect(events).toEqual(["join me 1", "join a 1", "update a new"]);
    expect(membership.get("a")?.state).toBe(NodeStateType.alive);
  });

  it("suspects, then declares dead after the suspicion timeout; alive with a higher incarnation clears it", () => {
    const { membership, events, sent, drain } = setup();
    membership.aliveNode(alive("a", 1), false);
    membership.aliveNode(alive("b", 1), false);
    drain();
    membership.suspectNode({ incarnation: 1, node: "a", from: "me" });
    expect(membership.get("a")?.state).toBe(NodeStateType.suspect);
    expect(sent()).toEqual(["suspect a"]);
    membership.aliveNode(alive("a", 2), false);
    expect(membership.get("a")?.state).toBe(NodeStateType.alive);
    vi.advanceTimersByTime(60_000);
    expect(membership.get("a")?.state).toBe(NodeStateType.alive);

    membership.suspectNode({ incarnation: 1, node: "b", from: "me" });
    // n = 3 nodes: min = 4 × max(1, log10 3) s = 4 s; k = 0 (too few nodes to confirm) so min applies.
    vi.advanceTimersByTime(3999);
    expect(membership.get("b")?.state).toBe(NodeStateType.suspect);
    vi.advanceTimersByTime(1);
    expect(membership.get("b")?.state).toBe(NodeStateType.dead);
    expect(events.at(-1)).toBe("leave b dead");
  });

  it("tells a leave (dead from the node itself) from a failure", () => {
    const { membership, events } = setup();
    membership.aliveNode(alive("a", 3), false);
    membership.deadNode({ incarnation: 2, node: "a", from: "a" }); // stale
    expect(membership.get("a")?.state).toBe(NodeStateType.alive);
    membership.deadNode({ incarnation: 3, node: "a", from: "a" });
    expect(events.at(-1)).toBe("leave a left");
    membership.aliveNode(alive("a", 4), false);
    expect(events.at(-1)).toBe("join a 4");
  });

  it("refutes suspicion, death and foreign alive claims about us with a higher incarnation", () => {
    const { membership, events, sent, drain } = setup();
    drain();
    membership.suspectNode({ incarnation: 1, node: "me", from: "x" });
    expect(membership.get("me")?.incarnation).toBe(2);
    membership.deadNode({ incarnation: 7, node: "me", from: "x" });
    expect(membership.get("me")?.incarnation).toBe(8);
    membership.aliveNode(alive("me", 8, "forged"), false);
    expect(membership.get("me")?.incarnation).toBe(9);
    expect(membership.get("me")?.meta.toString()).toBe("m");
    expect(events.filter((e) => e.startsWith("refute"))).toHaveLength(3);
    expect(sent()).toEqual(["alive me"]); // each refutation replaced the previous broadcast
    expect(membership.get("me")?.state).toBe(NodeStateType.alive);
  });

  it("when leaving, broadcasts its own death and reports when that broadcast is done", () => {
    const { membership, sent, drain } = setup();
    membership.aliveNode(alive("a", 1), false);
    drain();
    membership.leaving = true;
    let done = false;
    membership.deadNode({ incarnation: 1, node: "me", from: "me" }, () => {
      done = true;
    });
    expect(membership.get("me")?.state).toBe(NodeStateType.left);
    for (let i = 0; i < 4; i++) expect(sent()).toEqual(["dead me"]);
    expect(done).toBe(true);
    membership.aliveNode(alive("me", 5), false); // ignored once left
    expect(membership.get("me")?.state).toBe(NodeStateType.left);
  });

  it("merges push/pull states and reaps nodes dead for longer than gossipToTheDeadTime", () => {
    const { membership, events } = setup();
    membership.mergeState([
      {
        name: "a",
        addr: Buffer.from([1, 2, 3, 4]),
        port: 1,
        meta: Buffer.from("x"),
        incarnation: 1,
        state: 0,
        vsn: VSN,
      },
      {
        name: "b",
        addr: Buffer.from([1, 2, 3, 5]),
        port: 1,
        meta: Buffer.from("y"),
        incarnation: 1,
        state: 0,
        vsn: VSN,
      },
    ]);
    membership.mergeState([
      {
        name: "b",
        addr: Buffer.from([1, 2, 3, 5]),
        port: 1,
        meta: Buffer.from("y"),
        incarnation: 1,
        state: 3,
        vsn: VSN,
      },
    ]);
    expect(events).toEqual(["join me 1", "join a 1", "join b 1", "leave b left"]);
    expect(membership.checkProtocol([])).toBeUndefined();
    expect(
      membership.checkProtocol([
        {
          name: "old",
          addr: Buffer.alloc(4),
          port: 1,
          meta: Buffer.alloc(0),
          incarnation: 1,
          state: 0,
          vsn: Uint8Array.from([1, 1, 1, 0, 0, 0]),
        },
      ]),
    ).toMatch(/protocol version \(2\) is incompatible: \[1, 1\]/);
    membership.reap(Date.now() + 30_001);
    expect(
      membership
        .all()
        .map((n) => n.name)
        .sort(),
    ).toEqual(["a", "me"]);
  });
});
