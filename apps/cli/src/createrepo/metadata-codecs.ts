import type { Transform } from "node:stream";
import { gunzipSync } from "node:zlib";
import { YumError } from "@beskar-yum/errors";
import type { MetadataCompressor } from "@beskar-yum/repodata";

/**
 * xz and zstd for metadata files. Node 20's zlib has neither: xz comes from node-liblzma
 * (prebuilt liblzma), zstd from zstd-napi (bundled libzstd built at install time). Both are
 * loaded only when a repository uses them, so a gz run starts no native code but zlib.
 */

/** xz, by default preset 6 (xz's and createrepo_c's default level). */
export async function xzCompressor(preset = 6): Promise<MetadataCompressor> {
  const { createXz } = await import("node-liblzma");
  // Xz is a Transform whose typings narrow `on()` to its own events.
  return { suffix: ".xz", createStream: () => createXz({ preset }) as unknown as Transform };
}

/**
 * zstd's default level 3: on primary.xml of 20,000 packages (18.7 MB) it writes 1.03 MB in
 * 0.04 s where gzip -6 writes 1.19 MB in 0.13 s; level 10 was slower and no smaller.
 */
export async function zstdCompressor(): Promise<MetadataCompressor> {
  const { CompressStream } = await import("zstd-napi");
  return { suffix: ".zst", createStream: () => new CompressStream({ compressionLevel: 3 }) };
}

/**
 * The uncompressed content of a metadata file, chosen by its name (`.gz`, `.xz`, `.zst` or
 * plain `.xml`). Other formats (bz2, zck) throw REPODATA_INVALID naming the file. The work is
 * synchronous: this runs on the prefetch thread, where nothing else waits.
 */
export async function decompressMetadata(name: string, bytes: Buffer): Promise<Buffer> {
  if (name.endsWith(".gz")) {
    // Output chunks sized for XML's usual ratio, so few need joining.
    return gunzipSync(bytes, { chunkSize: Math.min(64 << 20, Math.max(64 << 10, bytes.length * 16)) });
  }
  if (name.endsWith(".xz")) {
    const { unxzSync } = await import("node-liblzma");
    return unxzSync(bytes);
  }
  if (name.endsWith(".zst")) {
    const { decompress } = await import("zstd-napi");
    return decompress(bytes);
  }
  if (name.endsWith(".xml")) return bytes;
  throw new YumError("REPODATA_INVALID", `${name}: compression not supported (gz, xz, zst or plain xml)`, {
    file: name,
  });
}
