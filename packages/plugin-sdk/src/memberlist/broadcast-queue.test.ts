import { describe, expect, it } from "vitest";
import { BroadcastQueue, retransmitLimit } from "./broadcast-queue.js";

describe("BroadcastQueue", () => {
  it("retransmits each broadcast retransmitMult × ceil(log10(n + 1)) times, then reports it done", () => {
    expect(retransmitLimit(4, 1)).toBe(4);
    expect(retransmitLimit(4, 9)).toBe(4);
    expect(retransmitLimit(4, 10)).toBe(8);
    let done = 0;
    const q = new BroadcastQueue(4, () => 2);
    q.queue("a", Buffer.from("alive a"), () => done++);
    for (let i = 0; i < 4; i++) expect(q.take(2, 1400)).toHaveLength(1);
    expect(done).toBe(1);
    expect(q.take(2, 1400)).toEqual([]);
  });

  it("replaces a queued broadcast about the same node, sends fewest-transmitted first and fits the limit", () => {
    const finished: string[] = [];
    const q = new BroadcastQueue(4, () => 2);
    q.queue("a", Buffer.from("suspect a"), () => finished.push("suspect a"));
    q.queue("a", Buffer.from("alive a"), () => finished.push("alive a"));
    expect(finished).toEqual(["suspect a"]);
    q.queue("b", Buffer.alloc(100));
    expect(q.take(2, 1400).map((m) => m.length)).toEqual([100, 7]);
    q.queue("c", Buffer.alloc(50));
    expect(q.take(2, 1400)[0]).toHaveLength(50); // never sent before: first
    expect(q.take(2, 60).map((m) => m.length)).toEqual([50]); // room for one only
    q.clear();
    expect(q.length).toBe(0);
  });
});
