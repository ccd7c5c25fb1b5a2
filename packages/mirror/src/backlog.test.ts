import { describe, expect, it } from "vitest";
import { Backlog } from "./backlog.js";

describe("Backlog", () => {
  it("holds reservations beyond the limit until enough is released, in order", async () => {
    const backlog = new Backlog(10);
    await backlog.reserve(6);
    await backlog.reserve(4);
    const order: string[] = [];
    const a = backlog.reserve(5).then(() => order.push("a"));
    const b = backlog.reserve(1).then(() => order.push("b"));
    await new Promise((resolve) => setImmediate(resolve));
    expect(order).toEqual([]);
    backlog.release(4);
    await new Promise((resolve) => setImmediate(resolve));
    expect(order).toEqual([]); // 6 + 5 > 10; b waits behind a
    backlog.release(6);
    await Promise.all([a, b]);
    expect(order).toEqual(["a", "b"]);
    expect(backlog.size).toBe(6);
  });

  it("lets one item bigger than the limit through when nothing else is held", async () => {
    const backlog = new Backlog(10);
    await backlog.reserve(100);
    const next = backlog.reserve(1);
    backlog.release(100);
    await next;
    expect(backlog.size).toBe(1);
  });
});
