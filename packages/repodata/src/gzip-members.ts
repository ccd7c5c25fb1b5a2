import { crc32, deflateRaw } from "node:zlib";

/**
 * Indexed gzip members: a metadata file written as a sequence of complete gzip members
 * (RFC 1952 §2.2 allows any number; zlib, libsolv, librepo, createrepo_c and Python read them
 * as one stream), each carrying in an FEXTRA subfield its own total length, the way BGZF
 * does, and how many items (packages) it holds. A later run finds every member without
 * inflating anything and can copy unchanged members instead of compressing them again.
 */

/** FEXTRA subfield "by": 4-byte little-endian member length, then 4-byte item count. */
const SI1 = 0x62;
const SI2 = 0x79;
const SUBFIELD_LENGTH = 8;
const HEADER_SIZE = 10 + 2 + 4 + SUBFIELD_LENGTH;
const TRAILER_SIZE = 8;
const FEXTRA = 0x04;

/** One member of an indexed gzip file. */
export interface GzipMember {
  /** The whole member, header to trailer: what a writer copies. */
  bytes: Buffer;
  /** CRC-32 of the uncompressed content (from the trailer). */
  crc: number;
  /** Uncompressed size (from the trailer; content is always < 4 GiB). */
  size: number;
  /** Items (packages) in the content, as the writer declared. */
  count: number;
}

/** Wraps raw deflate data into a gzip member carrying its own length and item count. */
export function gzipMember(deflated: Uint8Array, crc: number, size: number, count = 0): Buffer {
  const total = HEADER_SIZE + deflated.length + TRAILER_SIZE;
  const out = Buffer.allocUnsafe(total);
  // ID1 ID2 CM=deflate FLG=FEXTRA MTIME=0 XFL=0 OS=255 (unknown), as reproducible output wants.
  out.set([0x1f, 0x8b, 0x08, FEXTRA, 0, 0, 0, 0, 0, 0xff], 0);
  out.writeUInt16LE(4 + SUBFIELD_LENGTH, 10);
  out[12] = SI1;
  out[13] = SI2;
  out.writeUInt16LE(SUBFIELD_LENGTH, 14);
  out.writeUInt32LE(total, 16);
  out.writeUInt32LE(count, 20);
  out.set(deflated, HEADER_SIZE);
  out.writeUInt32LE(crc >>> 0, total - 8);
  out.writeUInt32LE(size >>> 0, total - 4);
  return out;
}

/** Compresses `content` into one indexed member (deflate runs on libuv's thread pool). */
export function compressMember(
  content: Buffer,
  opts: { level?: number; count?: number } = {},
): Promise<GzipMember> {
  const crc = crc32(content);
  const count = opts.count ?? 0;
  return new Promise((resolve, reject) => {
    deflateRaw(content, { level: opts.level ?? 6 }, (err, deflated) => {
      if (err) reject(err);
      else
        resolve({
          bytes: gzipMember(deflated, crc, content.length, count),
          crc,
          size: content.length,
          count,
        });
    });
  });
}

/**
 * The members of a file written by `gzipMember`, or undefined when any part of it is not an
 * indexed member (a file from createrepo_c or gzip: it is still valid gzip, just not indexed).
 * Only headers and trailers are read; inflating a member checks its CRC.
 */
export function readGzipMembers(file: Buffer): GzipMember[] | undefined {
  const members: GzipMember[] = [];
  let pos = 0;
  while (pos < file.length) {
    if (file.length - pos < HEADER_SIZE + TRAILER_SIZE) return undefined;
    if (file[pos] !== 0x1f || file[pos + 1] !== 0x8b || file[pos + 2] !== 0x08) return undefined;
    if (file[pos + 3] !== FEXTRA || file.readUInt16LE(pos + 10) !== 4 + SUBFIELD_LENGTH) return undefined;
    if (file[pos + 12] !== SI1 || file[pos + 13] !== SI2) return undefined;
    if (file.readUInt16LE(pos + 14) !== SUBFIELD_LENGTH) return undefined;
    const total = file.readUInt32LE(pos + 16);
    if (total < HEADER_SIZE + TRAILER_SIZE || pos + total > file.length) return undefined;
    const bytes = file.subarray(pos, pos + total);
    members.push({
      bytes,
      crc: bytes.readUInt32LE(total - 8),
      size: bytes.readUInt32LE(total - 4),
      count: file.readUInt32LE(pos + 20),
    });
    pos += total;
  }
  return members.length > 0 ? members : undefined;
}
