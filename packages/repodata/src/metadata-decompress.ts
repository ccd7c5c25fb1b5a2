import { createReadStream } from "node:fs";
import { Readable, type Transform } from "node:stream";
import { createGunzip } from "node:zlib";
import { YumError } from "@beskar-yum/errors";
import { bunzip2 } from "./bzip2-decoder.js";
import { unzstd } from "./zstd-decoder.js";

/** A metadata file: its path, or its bytes as a (sync or async) iterable such as a stream. */
export type MetadataSource = string | AsyncIterable<Uint8Array> | Iterable<Uint8Array>;

export type MetadataCompression = "gz" | "xz" | "zstd" | "bz2" | "none";

export interface DecompressOptions {
  /** Largest uncompressed size accepted, in bytes. Default 8 GiB. */
  maxBytes?: number;
  /** The file's name, for error messages. Default "metadata". */
  name?: string;
  signal?: AbortSignal;
}

const DEFAULT_MAX_BYTES = 8 * 1024 ** 3;

/** The compression of `head` (the file's first bytes), by magic number; "none" for anything else. */
export function sniffCompression(head: Uint8Array): MetadataCompression {
  const b = (i: number) => head[i];
  if (b(0) === 0x1f && b(1) === 0x8b) return "gz";
  if (b(0) === 0xfd && b(1) === 0x37 && b(2) === 0x7a && b(3) === 0x58 && b(4) === 0x5a && b(5) === 0x00)
    return "xz";
  if (b(0) === 0x28 && b(1) === 0xb5 && b(2) === 0x2f && b(3) === 0xfd) return "zstd";
  if (b(0) === 0x42 && b(1) === 0x5a && b(2) === 0x68) return "bz2";
  return "none";
}

async function decoder(kind: Exclude<MetadataCompression, "bz2" | "zstd">): Promise<Transform | undefined> {
  switch (kind) {
    case "gz":
      return createGunzip({ chunkSize: 256 * 1024 });
    case "xz": {
      const { createUnxz } = await import("node-liblzma");
      return createUnxz() as unknown as Transform;
    }
    case "none":
      return undefined;
  }
}

/**
 * Compressed input is handed to the decoder this much at a time: a decoder turns one write into
 * all of its output at once, so this bounds what one write can cost (gzip: at most ~1000x).
 */
const INPUT_SLICE = 16 * 1024;

async function* slices(first: Buffer[], rest: AsyncIterator<Uint8Array>): AsyncGenerator<Buffer> {
  const sliced = function* (b: Buffer) {
    for (let at = 0; at < b.length; at += INPUT_SLICE) yield b.subarray(at, at + INPUT_SLICE);
  };
  for (const b of first) yield* sliced(b);
  for (;;) {
    const r = await rest.next();
    if (r.done) return;
    yield* sliced(Buffer.from(r.value.buffer, r.value.byteOffset, r.value.byteLength));
  }
}

/**
 * The uncompressed bytes of a metadata file (a path or a byte stream), whatever its
 * compression: gz (every member), xz, zstd or bz2, chosen by magic number, or plain. Stops with
 * REPODATA_INVALID past `maxBytes` of output, so a decompression bomb costs at most that much
 * reading and never that much memory: output is pulled a chunk at a time.
 */
export async function* decompressMetadataStream(
  source: MetadataSource,
  opts: DecompressOptions = {},
): AsyncGenerator<Buffer> {
  const name = opts.name ?? (typeof source === "string" ? source : "metadata");
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES;
  const input =
    typeof source === "string"
      ? createReadStream(source, { highWaterMark: 256 * 1024, signal: opts.signal })
      : source;
  const it = (async function* () {
    yield* input as AsyncIterable<Uint8Array>;
  })();
  const head: Buffer[] = [];
  let headLength = 0;
  try {
    while (headLength < 6) {
      const r = await it.next();
      if (r.done) break;
      const b = Buffer.from(r.value.buffer, r.value.byteOffset, r.value.byteLength);
      head.push(b);
      headLength += b.length;
    }
    const kind = sniffCompression(Buffer.concat(head, headLength));
    let raw: Readable | undefined;
    let transform: Transform | undefined;
    let out: AsyncIterable<Buffer>;
    if (kind === "bz2") out = bunzip2(slices(head, it));
    else if (kind === "zstd") out = unzstd(slices(head, it));
    else {
      const t = await decoder(kind);
      const r = Readable.from(slices(head, it), { objectMode: false, highWaterMark: INPUT_SLICE });
      if (t) r.on("error", (err) => t.destroy(err));
      out = t ? r.pipe(t) : r;
      raw = r;
      transform = t;
    }
    let total = 0;
    try {
      for await (const chunk of out) {
        opts.signal?.throwIfAborted();
        total += chunk.length;
        if (total > maxBytes) {
          throw new YumError("REPODATA_INVALID", `${name}: more than ${maxBytes} bytes once decompressed`, {
            file: name,
          });
        }
        yield chunk;
      }
    } catch (err) {
      if (err instanceof YumError || opts.signal?.aborted) throw err;
      throw new YumError("REPODATA_INVALID", `${name}: cannot decompress: ${(err as Error).message}`, {
        file: name,
      });
    } finally {
      raw?.destroy();
      transform?.destroy();
    }
  } finally {
    await it.return?.();
  }
}
