import { describe, expect, it } from "vitest";
import { isPluginSdkError } from "../errors.js";
import { Action, createEventPayload, type EventPayload } from "../proto/event-payload.js";
import type { HandlerContext } from "./handler.js";
import { RepoHandler } from "./repo-handler.js";
import { RepositoryManager } from "./repository-manager.js";

const event = (digest: string) =>
  createEventPayload({ repository: "artifacts/yum/r/packages", digest, action: Action.PUT });

/** Records batches; each batch takes `delayMs`; fails a batch containing digest "boom". */
class RecordingHandler extends RepoHandler {
  readonly batches: string[][] = [];
  readonly stored: string[] = [];
  readonly replay: EventPayload[] = [];
  cleanedUp = false;
  startGate: Promise<void> = Promise.resolve();
  delayMs = 0;

  constructor(context: HandlerContext) {
    super(context);
  }

  protected override async onStart(): Promise<void> {
    await this.startGate;
    for (const e of this.replay) this.enqueueEvent(e);
  }

  protected override async storeEvent(e: EventPayload): Promise<void> {
    if (e.digest === "unstorable") throw new Error("disk full");
    this.stored.push(e.digest);
  }

  protected async processEvents(events: readonly EventPayload[], signal: AbortSignal): Promise<void> {
    this.batches.push(events.map((e) => e.digest));
    if (this.delayMs > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, this.delayMs);
        signal.addEventListener("abort", () => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    if (events.some((e) => e.digest === "boom")) throw new Error("boom");
  }

  protected override async cleanup(): Promise<void> {
    this.cleanedUp = true;
  }
}

describe("RepoHandler", () => {
  it("processes events in arrival order, batching what queued up meanwhile", async () => {
    const manager = new RepositoryManager((ctx) => new RecordingHandler(ctx));
    const handler = manager.get("artifacts/yum/r");
    handler.delayMs = 30;
    await handler.queueEvent(event("a"), true);
    await new Promise((r) => setTimeout(r, 5));
    await handler.queueEvent(event("b"), false);
    await handler.queueEvent(event("c"), true);
    await handler.idle();
    expect(handler.batches).toEqual([["a"], ["b", "c"]]);
    expect(handler.stored).toEqual(["a", "c"]);
  });

  it("holds events that arrive before start completes until the loop runs", async () => {
    let open!: () => void;
    const manager = new RepositoryManager((ctx) => {
      const h = new RecordingHandler(ctx);
      h.startGate = new Promise((r) => {
        open = r;
      });
      h.replay.push(event("stored-1"));
      return h;
    });
    const handler = manager.get("r");
    await handler.queueEvent(event("live"), true);
    expect(handler.batches).toEqual([]);
    open();
    await handler.idle();
    expect(handler.batches).toEqual([["live", "stored-1"]]);
  });

  it("rejects queueEvent when storing fails (the /event 500), keeps going after a failed batch", async () => {
    const manager = new RepositoryManager((ctx) => new RecordingHandler(ctx));
    const handler = manager.get("r");
    await expect(handler.queueEvent(event("unstorable"), true)).rejects.toThrow(/disk full/);
    const failed: unknown[] = [];
    handler.on("failed", (err) => failed.push(err));
    await handler.queueEvent(event("boom"), false);
    await handler.idle();
    await handler.queueEvent(event("after"), false);
    await handler.idle();
    expect(handler.batches).toEqual([["boom"], ["after"]]);
    expect(failed).toHaveLength(1);
  });

  it("stops: aborts the batch in progress, cleans up, refuses new events; the manager makes a new one", async () => {
    const manager = new RepositoryManager((ctx) => new RecordingHandler(ctx));
    const handler = manager.get("r");
    handler.delayMs = 10_000;
    await handler.queueEvent(event("slow"), false);
    await new Promise((r) => setTimeout(r, 10));
    const t0 = Date.now();
    await handler.stop();
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(handler.stopped).toBe(true);
    expect(handler.cleanedUp).toBe(true);
    expect(manager.has("r")).toBe(false);
    const err = await handler.queueEvent(event("late"), false).catch((e: unknown) => e);
    expect(isPluginSdkError(err, "HANDLER_STOPPED")).toBe(true);
    await handler.stop(); // idempotent
    const fresh = manager.get("r");
    expect(fresh).not.toBe(handler);
    expect(fresh.stopped).toBe(false);
  });
});

describe("RepositoryManager", () => {
  it("makes one handler per repository, lazily, and stops them all in parallel", async () => {
    const made: string[] = [];
    const manager = new RepositoryManager((ctx) => {
      made.push(ctx.repository);
      const h = new RecordingHandler(ctx);
      h.delayMs = 300;
      return h;
    });
    expect(manager.has("a")).toBe(false);
    const a = manager.get("a");
    expect(manager.get("a")).toBe(a);
    const b = manager.get("b");
    expect(made).toEqual(["a", "b"]);
    expect([...manager.getAll().keys()]).toEqual(["a", "b"]);
    await a.queueEvent(event("1"), false);
    await b.queueEvent(event("2"), false);
    await new Promise((r) => setTimeout(r, 10));
    const t0 = Date.now();
    await manager.stopAll();
    expect(Date.now() - t0).toBeLessThan(250);
    expect(a.cleanedUp && b.cleanedUp).toBe(true);
    expect(manager.getAll().size).toBe(0);
  });

  it("forgets a handler whose start fails", async () => {
    const manager = new RepositoryManager((ctx) => {
      const h = new RecordingHandler(ctx);
      h.startGate = Promise.reject(new Error("cannot open database"));
      return h;
    });
    const h = manager.get("r");
    await new Promise((r) => setTimeout(r, 10));
    expect(h.stopped).toBe(true);
    expect(manager.has("r")).toBe(false);
  });
});
