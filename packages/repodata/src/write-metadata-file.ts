import { createHash, randomBytes } from "node:crypto";
import { type FileHandle, open, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import type { Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { constants, createGzip } from "node:zlib";
import type { RepomdRecord } from "./repomd-record.js";

export interface WriteMetadataFileOptions {
  /** Directory the file lands in (the repository's `repodata/`). */
  dir: string;
  /** Record type and file name part: "primary" → `<checksum>-primary.xml.gz`. */
  kind: string;
  /**
   * The complete document, written verbatim and in order: the caller includes
   * `metadataHeader(kind, n)` first and `metadataFooter(kind)` last. Byte parts are UTF-8.
   */
  parts: Iterable<string | Uint8Array> | AsyncIterable<string | Uint8Array>;
  /** Default "sha256". */
  checksumType?: "sha256" | "sha512" | "sha1";
  /**
   * Default "gz"; "none" writes plain `.xml`; a `MetadataCompressor` adds another format (xz,
   * zstd, ...) whose implementation the caller brings.
   */
  compress?: "gz" | "none" | MetadataCompressor;
  /** Unix seconds for the record's `<timestamp>`. */
  timestamp: number;
  /** Location prefix of the record; default "repodata/". */
  locationPrefix?: string;
  signal?: AbortSignal;
}

/** A compression format for `writeMetadataFile`, e.g. xz from a native binding. */
export interface MetadataCompressor {
  /** File name suffix with its dot: ".xz", ".zst". */
  suffix: string;
  /** A fresh stream turning the open document into the compressed file. */
  createStream(): Transform;
}

/** Groups small parts into ~64 KiB buffers, hashing and counting the open data on the way. */
async function* encode(
  parts: Iterable<string | Uint8Array> | AsyncIterable<string | Uint8Array>,
  openHash: ReturnType<typeof createHash>,
  counter: { size: number },
): AsyncGenerator<Buffer> {
  let strings: string[] = [];
  let buffers: Buffer[] = [];
  let pendingLength = 0;
  const settleStrings = () => {
    if (strings.length === 0) return;
    buffers.push(Buffer.from(strings.join(""), "utf8"));
    strings = [];
  };
  const flush = () => {
    settleStrings();
    const buf = buffers.length === 1 ? buffers[0]! : Buffer.concat(buffers);
    buffers = [];
    pendingLength = 0;
    openHash.update(buf);
    counter.size += buf.length;
    return buf;
  };
  for await (const part of parts) {
    if (typeof part === "string") {
      strings.push(part);
    } else {
      settleStrings();
      buffers.push(Buffer.from(part.buffer, part.byteOffset, part.byteLength));
    }
    pendingLength += part.length;
    if (pendingLength >= 65536) yield flush();
  }
  if (pendingLength > 0) yield flush();
}

/**
 * Streams a metadata document through gzip into a temporary file in `dir`, computing checksum
 * and size of both the stored and the open data, fsyncs it, renames it to
 * `<checksum>-<kind>.xml.gz` (createrepo_c's unique file names) and fsyncs the directory.
 * Returns the repomd record (location `repodata/<file>`). On failure or abort nothing is left behind.
 */
export async function writeMetadataFile(opts: WriteMetadataFileOptions): Promise<RepomdRecord> {
  const checksumType = opts.checksumType ?? "sha256";
  const compress = opts.compress ?? "gz";
  const tmp = join(opts.dir, `.${opts.kind}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`);
  const openHash = createHash(checksumType);
  const fileHash = createHash(checksumType);
  const open_ = { size: 0 };
  let size = 0;
  let handle: FileHandle | undefined = await open(tmp, "wx", 0o644);
  try {
    const sink = async (source: AsyncIterable<Buffer>) => {
      for await (const chunk of source) {
        opts.signal?.throwIfAborted();
        fileHash.update(chunk);
        size += chunk.length;
        await handle!.write(chunk);
      }
    };
    const source = encode(opts.parts, openHash, open_);
    if (compress === "none") {
      await pipeline(source, sink, { signal: opts.signal });
    } else {
      const stream =
        compress === "gz" ? createGzip({ level: constants.Z_DEFAULT_COMPRESSION }) : compress.createStream();
      await pipeline(source, stream, sink, { signal: opts.signal });
    }
    await handle.sync();
    await handle.close();
    handle = undefined;
    const checksum = fileHash.digest("hex");
    const suffix = compress === "none" ? "" : compress === "gz" ? ".gz" : compress.suffix;
    const name = `${checksum}-${opts.kind}.xml${suffix}`;
    await rename(tmp, join(opts.dir, name));
    await syncDirectory(opts.dir);
    const record: RepomdRecord = {
      type: opts.kind,
      checksum: { type: checksumType, value: checksum },
      location: `${opts.locationPrefix ?? "repodata/"}${name}`,
      timestamp: opts.timestamp,
      size,
    };
    if (compress !== "none") {
      record.openChecksum = { type: checksumType, value: openHash.digest("hex") };
      record.openSize = open_.size;
    }
    return record;
  } catch (err) {
    await handle?.close().catch(() => {});
    await rm(tmp, { force: true });
    throw err;
  }
}

/** fsync a directory after renames in it; filesystems that refuse are tolerated (the renames stay atomic). */
export async function syncDirectory(dir: string): Promise<void> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(dir, "r");
    await handle.sync();
  } catch {
    // Not every platform/filesystem lets a directory be fsynced; the rename is still atomic.
  } finally {
    await handle?.close().catch(() => {});
  }
}
