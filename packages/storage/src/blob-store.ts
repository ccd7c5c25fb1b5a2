import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { copyFile, link, mkdir, open, rename, rm, stat } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { Readable } from "node:stream";
import { YumError } from "@beskar-yum/errors";
import { fsyncDir, tempPathFor } from "./atomic-file.js";

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
   * records them all at once skips it here and calls `syncAll` once, before recording.
   */
  durable?: boolean;
  signal?: AbortSignal;
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
    try {
      options.signal?.throwIfAborted();
      for await (const chunk of body as AsyncIterable<Buffer>) {
        size += chunk.length;
        if (size > maxBytes)
          throw new YumError("PAYLOAD_TOO_LARGE", `body exceeds the limit of ${maxBytes} bytes`);
        options.inspect?.update(chunk);
        hash.update(chunk);
        await output.write(chunk);
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
      let next = 0;
      await Promise.all(
        Array.from({ length: Math.min(parallel, batch.length) }, async () => {
          while (next < batch.length) {
            const handle = await open(batch[next++]!, "r");
            await handle.sync().finally(() => handle.close());
          }
        }),
      );
    }
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
