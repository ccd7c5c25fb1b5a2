import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { type ErrorCode, YumError } from "@beskar-yum/errors";
import type { PackageRecord } from "@beskar-yum/storage";

/** One package for the thread: verified bytes and what its record needs. */
export interface PackageJob {
  id: number;
  /** The blob store's root (`FsBlobStore.root`): the thread serves every repository of the process. */
  root: string;
  href: string;
  /** sha256 of `data`, already checked against upstream's metadata. */
  digest: string;
  data: Uint8Array;
  uploadTime: number;
  gpgKey?: string;
}

export type PackageJobReply =
  | { id: number; record: PackageRecord }
  | { id: number; error: { stage: "parse" | "record" | "store"; code?: string; message: string } };

/** Where the thread's compiled entry module is: beside this one in dist/. */
const threadUrl = new URL("./package-thread.js", import.meta.url);

/** How long the shared thread stays up without work: the next sync of a running worker finds it started, and warm. */
const idleMs = 60_000;
let shared: PackageStore | undefined;

/**
 * Parses, indexes and stores small packages (downloaded whole into memory, verified) on a thread
 * of its own, so that the main thread only downloads: see package-thread.ts. Blobs are stored like
 * `FsBlobStore.commit` with `durable: false`: complete at their final path or absent; the caller
 * makes them durable all at once (`FsBlobStore.syncMany`) before it records them.
 */
export class PackageStore {
  private readonly pending = new Map<
    number,
    { resolve: (record: PackageRecord) => void; reject: (err: Error) => void; href: string }
  >();
  private nextId = 0;
  private failure: Error | undefined;
  private idle: NodeJS.Timeout | undefined;
  /** Syncs holding the shared thread (`shared()` to `release()`). */
  private users = 0;

  private constructor(private readonly worker: Worker) {
    // Only work in progress keeps the process alive, not the thread itself.
    worker.unref();
    worker.on("message", (reply: PackageJobReply) => {
      const waiter = this.pending.get(reply.id);
      if (!waiter) return;
      this.pending.delete(reply.id);
      if (this.pending.size === 0) this.rest();
      if ("record" in reply) return waiter.resolve(reply.record);
      waiter.reject(rebuild(waiter.href, reply.error));
    });
    const fail = (err: Error) => {
      this.failure ??= err;
      for (const waiter of this.pending.values()) waiter.reject(this.failure);
      this.pending.clear();
    };
    worker.on("error", fail);
    worker.on("exit", (code) => fail(new YumError("INTERNAL", `package thread exited (${code})`)));
  }

  /**
   * Starts the thread; undefined when its compiled module is not there (this file run from its
   * TypeScript sources): the caller then downloads every package to a temporary file instead.
   */
  static start(): PackageStore | undefined {
    if (!existsSync(fileURLToPath(threadUrl))) return undefined;
    return new PackageStore(new Worker(threadUrl));
  }

  /**
   * The process's thread, shared by its syncs (one thread: a second one measured slower on two
   * cores, as each costs its own module loading and JIT): started on first use, stopped after a
   * minute without work, started again if it failed.
   */
  static shared(): PackageStore | undefined {
    if (!shared || shared.failure) shared = PackageStore.start();
    if (shared) shared.users++;
    return shared;
  }

  /**
   * A sync that took the thread with `shared()` is done with it. The last one stops it at once:
   * its isolate holds tens of MiB that the sync's commit, which comes next, is better off without
   * (a 50,000-package sync's peak RSS is its commit's).
   */
  release(): void {
    if (--this.users > 0 || this.pending.size > 0) return;
    if (shared === this) shared = undefined;
    void this.close();
  }

  /** Nothing in progress: the thread no longer holds the process, and stops if it stays idle. */
  private rest(): void {
    this.worker.unref();
    clearTimeout(this.idle);
    this.idle = setTimeout(() => {
      if (this.pending.size > 0) return;
      if (shared === this) shared = undefined;
      void this.close();
    }, idleMs);
    this.idle.unref();
  }

  /**
   * Parses the package, builds its record and stores it; resolves with the record once the blob is
   * in place. Errors are those the main thread would raise: the parser's own, REPODATA_INVALID
   * naming `href` for a package that does not index, INTERNAL for a failed write.
   *
   * With `transfer`, when `data` is the whole of an ArrayBuffer of its own (`fetchVerified`'s bytes
   * are), that buffer is moved to the thread instead of copied: `data` is empty once this returns.
   */
  store(
    job: Omit<PackageJob, "id">,
    { transfer = false }: { transfer?: boolean } = {},
  ): Promise<PackageRecord> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    if (this.pending.size === 0) {
      clearTimeout(this.idle);
      this.worker.ref();
    }
    return new Promise<PackageRecord>((resolve, reject) => {
      this.pending.set(id, { resolve, reject, href: job.href });
      const { data } = job;
      this.worker.postMessage(
        { ...job, id } satisfies PackageJob,
        transfer && ownsItsBuffer(data) ? [data.buffer as ArrayBuffer] : [],
      );
    });
  }

  /** Stops the thread; packages not acknowledged yet may or may not be stored (whole, if at all). */
  async close(): Promise<void> {
    this.failure ??= new YumError("INTERNAL", "package thread closed");
    clearTimeout(this.idle);
    await this.worker.terminate();
  }
}

/**
 * `data` is the whole of an ArrayBuffer of its own (not a slice of Node's Buffer pool, nor shared):
 * it is then transferred to the thread instead of copied, and `data` is empty afterwards. A copy
 * would leave the bytes of every package in this thread until its next full garbage collection
 * (ArrayBuffers outlive the young generation while downloads wait for their turn): a
 * 50,000-package sync grew its native heap by tens of MiB that way.
 */
function ownsItsBuffer(data: Uint8Array): boolean {
  return (
    data.buffer instanceof ArrayBuffer && data.byteOffset === 0 && data.byteLength === data.buffer.byteLength
  );
}

function rebuild(href: string, error: { stage: string; code?: string; message: string }): YumError {
  const code = error.code as ErrorCode | undefined;
  if (error.stage === "parse") return new YumError(code ?? "INTERNAL", error.message);
  if (error.stage === "record") {
    return new YumError("REPODATA_INVALID", `${href}: ${code ? `${code}: ` : ""}${error.message}`);
  }
  return new YumError("INTERNAL", `${href}: storing the package failed: ${error.message}`);
}
