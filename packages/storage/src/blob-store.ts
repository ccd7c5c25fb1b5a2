import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { createReadStream, mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { copyFile, link, mkdir, open, readdir, rename, rm, stat } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { Readable } from "node:stream";
import { YumError } from "@beskar-yum/errors";
import { fsyncDir, tempPathFor } from "./atomic-file.js";
import { runBounded } from "./concurrency.js";

const hexDigest = /^[0-9a-f]{64}$/;

/** A blob received into a temporary file, with its digest computed while it streamed in. */
export interface IngestedBlob {
  digest: string;
  size: number;
  tempPath: string;
}

export interface IngestOptions {
  /** Refuse bodies larger than this many bytes (PAYLOAD_TOO_LARGE), checked while streaming. */
  maxBytes?: number;
  /** Sees every chunk, then the end; throwing from either aborts the ingest (e.g. a checksum check). */
  inspect?: { update(chunk: Buffer): void; finish(): void };
  /**
   * fsync the blob before returning (default true). A caller that stores many blobs and then
   * records them all at once skips it here and calls `syncMany` once, before recording.
   */
  durable?: boolean;
  signal?: AbortSignal;
  /**
   * Told the temporary file's path once it exists, then how many bytes it holds after each write:
   * readers may follow a blob while it streams in (on_demand clients sharing one download).
   */
  progress?: { created(tempPath: string): void; written(bytes: number): void };
}

/**
 * Content-addressed files under `<root>/sha256/<2 hex>/<digest>`. A blob is written to a temporary
 * file, fsynced and renamed into place, so a crash leaves either nothing or the whole blob.
 */
export class FsBlobStore {
  private readonly createdDirs = new Set<string>();

  constructor(readonly root: string) {}

  pathOf(digest: string): string {
    if (!hexDigest.test(digest)) throw new YumError("INVALID_ARGUMENT", `invalid sha256 digest "${digest}"`);
    return join(this.root, "sha256", digest.slice(0, 2), digest);
  }

  /** Streams `body` to a temporary file beside the store, hashing it on the way. Call `commit` or `discard` next. */
  async ingest(body: Readable, options: IngestOptions = {}): Promise<IngestedBlob> {
    const tmpDir = join(this.root, "tmp");
    await this.ensureDir(tmpDir);
    const tempPath = tempPathFor(join(tmpDir, "upload"));
    const hash = createHash("sha256");
    let size = 0;
    const maxBytes = options.maxBytes ?? Number.POSITIVE_INFINITY;
    // Create the file before streaming, so that a failed stream can always be cleaned up after.
    const output = await open(tempPath, "wx", 0o644);
    options.progress?.created(tempPath);
    try {
      options.signal?.throwIfAborted();
      for await (const chunk of body as AsyncIterable<Buffer>) {
        size += chunk.length;
        if (size > maxBytes)
          throw new YumError("PAYLOAD_TOO_LARGE", `body exceeds the limit of ${maxBytes} bytes`);
        options.inspect?.update(chunk);
        hash.update(chunk);
        await output.write(chunk);
        options.progress?.written(size);
        options.signal?.throwIfAborted();
      }
      options.inspect?.finish();
      if (options.durable !== false) await output.sync();
      await output.close();
    } catch (err) {
      body.destroy();
      await output.close().catch(() => undefined);
      await rm(tempPath, { force: true });
      throw err;
    }
    return { digest: hash.digest("hex"), size, tempPath };
  }

  /** mkdir -p, once per directory and store instance. */
  private async ensureDir(dir: string): Promise<void> {
    if (this.createdDirs.has(dir)) return;
    await mkdir(dir, { recursive: true });
    this.createdDirs.add(dir);
  }

  /**
   * Stores bytes already verified to hash to `digest`, with synchronous calls (for a thread of its
   * own, where they cost no thread-pool round trips): a temporary file written in one call, then
   * renamed into place. Not durable, like `commit` with `durable: false`: see `syncMany`.
   */
  putSync(digest: string, data: Uint8Array): void {
    const tmpDir = join(this.root, "tmp");
    const target = this.pathOf(digest);
    const temp = tempPathFor(join(tmpDir, "upload"));
    try {
      for (const dir of [tmpDir, dirname(target)]) {
        if (this.createdDirs.has(dir)) continue;
        mkdirSync(dir, { recursive: true });
        this.createdDirs.add(dir);
      }
      writeFileSync(temp, data, { flag: "wx", mode: 0o644 });
      renameSync(temp, target);
    } catch (err) {
      rmSync(temp, { force: true });
      throw err;
    }
  }

  /**
   * Moves an ingested blob into place. Content already stored is replaced by the same bytes
   * (rename is atomic), which is cheaper than checking first.
   */
  async commit(blob: IngestedBlob, options: { durable?: boolean } = {}): Promise<string> {
    const target = this.pathOf(blob.digest);
    await this.ensureDir(dirname(target));
    await rename(blob.tempPath, target);
    if (options.durable !== false) await fsyncDir(dirname(target));
    return target;
  }

  /**
   * Makes blobs stored with `durable: false` durable: every file and its directory fsynced, many at
   * once, so that the filesystem can fold them into a few journal commits instead of one each.
   */
  async syncAll(digests: Iterable<string>, parallel = 32): Promise<void> {
    const files = [...new Set(digests)].map((d) => this.pathOf(d));
    const dirs = [...new Set(files.map((f) => dirname(f)))];
    for (const batch of [files, dirs]) {
      await runBounded(batch, parallel, async (path) => {
        const handle = await open(path, "r");
        await handle.sync().finally(() => handle.close());
      });
    }
  }

  /**
   * Makes blobs stored with `durable: false` durable, the cheapest way for their number: a few are
   * fsynced one by one (`syncAll`); many at once by one syncfs(2) of the store's filesystem
   * (coreutils `sync -f`), which writes every file and directory entry back in one pass instead of
   * one flush each. `syncAll` again when `sync` is not there; any other failure is an error.
   */
  async syncMany(
    digests: Iterable<string>,
    options: { syncfsFrom?: number; timeoutMs?: number } = {},
  ): Promise<void> {
    const unique = [...new Set(digests)];
    if (unique.length === 0) return;
    // Bounded: `sync -f` flushes the whole filesystem (other tenants' dirty data too), so it gets
    // half of `timeoutMs`; past that, only these blobs are fsynced in what is left; past the whole
    // of it, TIMEOUT says what did not return (a flush cannot be cancelled: it goes on, ignored).
    const timeoutMs = options.timeoutMs ?? 120_000;
    const deadline = Date.now() + timeoutMs;
    const perFile = (why: string) =>
      withDeadline(
        this.syncAll(unique),
        deadline - Date.now(),
        () =>
          new YumError(
            "TIMEOUT",
            `making ${unique.length} blobs under ${this.root} durable took more than ${timeoutMs} ms (storage.fsync_timeout_ms): ${why}, and fsync of each did not finish in time either`,
          ),
      );
    if (unique.length < (options.syncfsFrom ?? 64)) return perFile("too few blobs for sync -f");
    const syncfsMs = Math.max(1, Math.floor(timeoutMs / 2));
    let outcome: "done" | "timeout";
    try {
      outcome = await syncFilesystem(this.root, syncfsMs);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
      return perFile("sync is not installed");
    }
    if (outcome === "timeout") await perFile(`sync -f ${this.root} did not return within ${syncfsMs} ms`);
  }

  /** Every digest stored, read once (a sync checks thousands of packages against it without a stat each). */
  async list(): Promise<Set<string>> {
    const digests = new Set<string>();
    let shards: string[];
    try {
      shards = await readdir(join(this.root, "sha256"));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return digests;
      throw err;
    }
    for (const shard of shards) {
      if (!/^[0-9a-f]{2}$/.test(shard)) continue;
      for (const entry of await readdir(join(this.root, "sha256", shard), { withFileTypes: true })) {
        if (entry.isFile() && hexDigest.test(entry.name) && entry.name.startsWith(shard))
          digests.add(entry.name);
      }
    }
    return digests;
  }

  async discard(blob: IngestedBlob): Promise<void> {
    await rm(blob.tempPath, { force: true });
  }

  async has(digest: string): Promise<boolean> {
    try {
      return (await stat(this.pathOf(digest))).isFile();
    } catch {
      return false;
    }
  }

  async delete(digest: string): Promise<void> {
    await rm(this.pathOf(digest), { force: true });
  }

  /**
   * Makes the blob readable at `target` too (a repodata file named by checksum): a hard link on the
   * same filesystem, else a copy renamed into place. An existing `target` is kept.
   */
  async placeAt(digest: string, target: string): Promise<void> {
    try {
      await link(this.pathOf(digest), target);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === "EEXIST") return;
      if (code !== "EXDEV" && code !== "EPERM") throw err;
      const temp = tempPathFor(target);
      await copyFile(this.pathOf(digest), temp);
      await rename(temp, target);
    }
  }

  createReadStream(digest: string, range?: { start: number; end: number }): Readable {
    return createReadStream(this.pathOf(digest), range);
  }
}

/** `work`, or the error `timeout()` makes once `ms` have passed (`work` goes on, its outcome ignored). */
function withDeadline<T>(work: Promise<T>, ms: number, timeout: () => Error): Promise<T> {
  work.catch(() => undefined);
  if (ms <= 0) return Promise.reject(timeout());
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(timeout()), ms);
  });
  return Promise.race([work, expired]).finally(() => clearTimeout(timer));
}

/**
 * syncfs(2) of the filesystem holding `path`, through coreutils (Node has no binding for it);
 * "timeout" when it has not returned within `timeoutMs`: the process is killed (which takes effect
 * only once the kernel returns from the flush) and left to exit on its own.
 */
function syncFilesystem(path: string, timeoutMs: number): Promise<"done" | "timeout"> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      child.unref();
      resolve("timeout");
    }, timeoutMs);
    const child = execFile("sync", ["-f", path], (err, _stdout, stderr) => {
      clearTimeout(timer);
      if (!err) return resolve("done");
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return reject(err);
      if (err.killed) return; // our timeout: answered already
      reject(
        new YumError(
          "INTERNAL",
          `sync -f ${path} failed: ${stderr.trim() || err.message}`,
          {},
          { cause: err },
        ),
      );
    });
  });
}
