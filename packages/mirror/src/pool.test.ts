import { describe, expect, it } from "vitest";
import { pool } from "./pool.js";

const never = new AbortController().signal;

describe("pool", () => {
  it("takes work from an async iterable still being produced, each item once", async () => {
    async function* produce() {
      for (let i = 0; i < 50; i++) {
        await new Promise((resolve) => setImmediate(resolve));
        yield i;
      }
    }
    const seen: number[] = [];
    await pool(produce(), 8, never, async (i) => {
      await new Promise((resolve) => setTimeout(resolve, i % 3));
      seen.push(i);
    });
    expect(seen.sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i));
  });

  it("fails with the producer's error, and with a worker's error closes the producer", async () => {
    async function* broken() {
      yield 1;
      throw new Error("bad plan");
    }
    await expect(pool(broken(), 4, never, async () => undefined)).rejects.toThrow("bad plan");

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
      pool(endless(), 4, never, async (i) => {
        if (i === 10) throw new Error("bad item");
      }),
    ).rejects.toThrow("bad item");
    expect(closed).toBe(true);
    expect(produced).toBeLessThan(20);
  });

  it("still works over an array", async () => {
    const seen: string[] = [];
    await pool(["a", "b", "c"], 8, never, async (x) => {
      seen.push(x);
    });
    expect(seen.sort()).toEqual(["a", "b", "c"]);
  });
});
