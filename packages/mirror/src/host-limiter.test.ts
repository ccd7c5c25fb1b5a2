import { describe, expect, it } from "vitest";
import { HostLimiter } from "./host-limiter.js";

describe("HostLimiter", () => {
  it("lets `limit` requests per host through, the next ones in order as slots come back", async () => {
    const limiter = new HostLimiter(2);
    const a = await limiter.acquire("h:1");
    const b = await limiter.acquire("h:1");
    const other = await limiter.acquire("other:1");
    const order: string[] = [];
    const granted = (name: string) => (release: () => void) => {
      order.push(name);
      return release;
    };
    const c = limiter.acquire("h:1").then(granted("c"));
    const d = limiter.acquire("h:1").then(granted("d"));
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(order).toEqual([]);
    a();
    a(); // a second call gives nothing back twice
    (await c)();
    expect(order).toEqual(["c"]);
    b();
    (await d)();
    other();
    expect(order).toEqual(["c", "d"]);
  });

  it("stops waiting when the signal aborts, and the slot it waited for goes to the next", async () => {
    const limiter = new HostLimiter(1);
    const held = await limiter.acquire("h:1");
    const abort = new AbortController();
    const waiting = limiter.acquire("h:1", abort.signal);
    const next = limiter.acquire("h:1");
    abort.abort(new Error("lock lost"));
    await expect(waiting).rejects.toThrow("lock lost");
    held();
    (await next)();
    await expect(limiter.acquire("h:1", abort.signal)).rejects.toThrow("lock lost");
  });
});
