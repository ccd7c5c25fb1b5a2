import { setImmediate as yieldToEventLoop } from "node:timers/promises";
import { Worker } from "node:worker_threads";
import type { ParsedPackage, ParseFailure, ParseTask } from "./parse-package.js";
import type { BatchRequest, BatchResponse } from "./parse-worker.js";

export interface ParseCallbacks {
  /** Called for every RPM parsed, in completion order (not package order). */
  onParsed: (pkg: ParsedPackage) => void;
  /** Called for every RPM that could not be read. */
  onFailure: (failure: ParseFailure) => void;
}

/** Parses one RPM on the calling thread (`parsePackage`, passed in so this module stays light). */
export type InlineParser = (task: ParseTask) => Promise<ParsedPackage | ParseFailure>;

/**
 * Parses the batches `take` hands out on the calling thread, yielding to the event loop
 * between batches so that parser threads' answers are taken in meanwhile.
 */
export async function parseInline(
  take: () => ParseTask[] | undefined,
  parse: InlineParser,
  callbacks: ParseCallbacks,
): Promise<void> {
  for (let batch = take(); batch; batch = take()) {
    for (const task of batch) {
      const r = await parse(task);
      if ("code" in r) callbacks.onFailure(r);
      else callbacks.onParsed(r);
    }
    await yieldToEventLoop();
  }
}

/**
 * Parser threads (worker_threads running parse-worker.js). They start loading their modules
 * as soon as the pool is made, so a caller that knows it will parse can make the pool first
 * and scan the directory meanwhile. Each thread is fed batches, two in flight so none waits
 * for its next one.
 */
export class ParsePool {
  private readonly workers: Worker[];
  /** A thread that failed before `run` listened (e.g. while loading its modules). */
  private failure: Error | undefined;

  constructor(size: number) {
    const url = new URL("./parse-worker.js", import.meta.url);
    this.workers = Array.from({ length: Math.max(1, size) }, () => {
      const worker = new Worker(url);
      worker.on("error", (err) => {
        this.failure ??= err;
      });
      return worker;
    });
  }

  get size(): number {
    return this.workers.length;
  }

  /**
   * Parses every task; resolves when each is answered (a bad RPM is a failure, not a
   * rejection). With `inline`, the calling thread takes (smaller) batches too.
   */
  async run(tasks: ParseTask[], callbacks: ParseCallbacks, inline?: InlineParser): Promise<void> {
    if (tasks.length === 0) return;
    if (this.failure) {
      throw new Error(`parser thread failed: ${this.failure.message}`, { cause: this.failure });
    }
    const threads = Math.min(this.workers.length, Math.ceil(tasks.length / 16));
    // Batches small enough to keep every thread busy to the end, large enough to amortise messages.
    const batchSize = Math.max(1, Math.min(64, Math.floor(tasks.length / ((threads + 1) * 8))));
    let next = 0;
    let batchId = 0;
    const take = (size: number): ParseTask[] | undefined => {
      if (next >= tasks.length) return undefined;
      const batch = tasks.slice(next, next + size);
      next += batch.length;
      return batch;
    };
    const takeBatch = (): BatchRequest | undefined => {
      const batch = take(batchSize);
      return batch && { id: batchId++, tasks: batch };
    };
    // The calling thread must come back often to feed the threads: small batches.
    const onMain = inline ? parseInline(() => take(Math.min(8, batchSize)), inline, callbacks) : undefined;
    const onThreads = this.workers.slice(0, threads).map(
      (worker) =>
        new Promise<void>((resolve, reject) => {
          let inFlight = 0;
          const send = () => {
            const batch = takeBatch();
            if (!batch) return;
            inFlight++;
            worker.postMessage(batch);
          };
          const onMessage = (msg: BatchResponse | { id: number; error: string }) => {
            inFlight--;
            if ("error" in msg) return fail(new Error(`parser thread failed: ${msg.error}`));
            deliver(msg, callbacks);
            send();
            if (inFlight === 0) finish();
          };
          const onExit = (code: number) => fail(new Error(`parser thread exited with code ${code}`));
          const cleanup = () => {
            worker.off("message", onMessage);
            worker.off("error", fail);
            worker.off("exit", onExit);
          };
          function finish() {
            cleanup();
            resolve();
          }
          function fail(err: Error) {
            cleanup();
            reject(err);
          }
          worker.on("message", onMessage);
          worker.on("error", fail);
          worker.on("exit", onExit);
          send();
          send();
          if (inFlight === 0) finish();
        }),
    );
    await Promise.all([onMain, ...onThreads]);
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

function deliver(msg: BatchResponse, callbacks: ParseCallbacks): void {
  const data = Buffer.from(msg.data);
  let at = 0;
  for (const p of msg.parsed) {
    const [a, b, c] = p.lengths;
    callbacks.onParsed({
      index: p.index,
      pkgid: p.pkgid,
      primary: data.subarray(at, at + a),
      filelists: data.subarray(at + a, at + a + b),
      other: data.subarray(at + a + b, at + a + b + c),
    });
    at += a + b + c;
  }
  for (const f of msg.failures) callbacks.onFailure(f);
}
