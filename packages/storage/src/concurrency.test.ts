import { describe, expect, it } from "vitest";
import { KeyedSemaphore, runBounded, Semaphore } from "./concurrency.js";

const tick = () => new Promise((resolve) => setImmediate(resolve));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("Semaphore (a byte budget)", () => {
  it("holds requests beyond the capacity until enough is released, in order", async () => {
    const budget = new Semaphore(10);
    const six = await budget.acquire(6);
    const four = await budget.acquire(4);
    const order: string[] = [];
    const granted = (name: string) => (release: () => void) => {
      order.push(name);
      return release;
    };
    const a = budget.acquire(5).then(granted("a"));
    const b = budget.acquire(1).then(granted("b"));
    await tick();
    expect(order).toEqual([]);
    four();
    await tick();
    expect(order).toEqual([]); // 6 + 5 > 10; b waits behind a
    six();
    six(); // a second call gives nothing back twice
    await Promise.all([a, b]);
    expect(order).toEqual(["a", "b"]);
    expect(budget.held).toBe(6);
  });

  it("lets one request bigger than the capacity through when nothing else is held", async () => {
    const budget = new Semaphore(10);
    const big = await budget.acquire(100);
    const next = budget.acquire(1);
    big();
    (await next)();
    expect(budget.idle).toBe(true);
  });

  it("stops waiting when the signal aborts, and what it held back goes on", async () => {
    const budget = new Semaphore(10);
    const held = await budget.acquire(5);
    const abort = new AbortController();
    const big = budget.acquire(8, abort.signal);
    const small = budget.acquire(2);
    await tick();
    abort.abort(new Error("lock lost"));
    await expect(big).rejects.toThrow("lock lost");
    (await small)();
    held();
    expect(budget.idle).toBe(true);
  });
});

describe("KeyedSemaphore", () => {
  it("limits each key on its own and forgets idle keys", async () => {
    const hosts = new KeyedSemaphore(1);
    const a = await hosts.acquire("a");
    const b = await hosts.acquire("b");
    let second = false;
    const a2 = hosts.acquire("a").then((release) => {
      second = true;
      return release;
    });
    await tick();
    expect(second).toBe(false);
    a();
    (await a2)();
    b();
    expect(hosts.size).toBe(0);
  });
});

describe("runBounded", () => {
  it("takes work from an async iterable still being produced, each item once, at most `limit` at once", async () => {
    async function* produce() {
      for (let i = 0; i < 50; i++) {
        await tick();
        yield i;
      }
    }
    const seen: number[] = [];
    let running = 0;
    let most = 0;
    await runBounded(produce(), 8, async (i) => {
      most = Math.max(most, ++running);
      await sleep(i % 3);
      seen.push(i);
      running--;
    });
    expect(seen.sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(most).toBeLessThanOrEqual(8);
    expect(most).toBeGreaterThan(1);
  });

  it("fails with the producer's error, and with a task's error closes the producer", async () => {
    async function* broken() {
      yield 1;
      throw new Error("bad plan");
    }
    await expect(runBounded(broken(), 4, async () => undefined)).rejects.toThrow("bad plan");

    let closed = false;
    let produced = 0;
    async function* endless() {
      try {
        for (;;) {
          produced++;
          yield produced;
        }
      } finally {
        closed = true;
      }
    }
    await expect(
      runBounded(endless(), 4, async (i) => {
        if (i === 10) throw new Error("bad item");
      }),
    ).rejects.toThrow("bad item");
    expect(closed).toBe(true);
    expect(produced).toBeLessThan(20);
  });

  it("waits for every started task to settle before it throws, and starts no new one", async () => {
    const started: number[] = [];
    const settled: number[] = [];
    const failure = runBounded([0, 1, 2, 3, 4, 5, 6, 7, 8, 9], 4, async (i) => {
      started.push(i);
      if (i === 1) throw new Error("download 1 failed");
      // The others are still committing blobs and writing progress when the first one fails.
      await sleep(50);
      settled.push(i);
    });
    await expect(failure).rejects.toThrow("download 1 failed");
    // Those running when 1 failed (0, 2, 3) have all finished; nothing was started after it.
    expect(settled.sort()).toEqual([0, 2, 3]);
    expect(started.sort()).toEqual([0, 1, 2, 3]);
  });

  it("stops when the signal aborts, after what runs has settled", async () => {
    const abort = new AbortController();
    const settled: number[] = [];
    const run = runBounded(
      Array.from({ length: 100 }, (_, i) => i),
      2,
      async (i) => {
        if (i === 3) abort.abort(new Error("lock lost"));
        await sleep(20);
        settled.push(i);
      },
      { signal: abort.signal },
    );
    await expect(run).rejects.toThrow("lock lost");
    const count = settled.length;
    await sleep(50);
    expect(settled.length).toBe(count);
    expect(count).toBeLessThan(10);
  });

  it("still works over an array, and over nothing", async () => {
    const seen: string[] = [];
    await runBounded(["a", "b", "c"], 8, async (x) => {
      seen.push(x);
    });
    expect(seen.sort()).toEqual(["a", "b", "c"]);
    await runBounded([], 8, async () => {
      throw new Error("never");
    });
  });
});
