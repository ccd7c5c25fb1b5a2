import { crc32 } from "node:zlib";
import { PluginSdkError } from "../errors.js";
import type { Keyring } from "./keyring.js";
import { lzwCompress, lzwDecompress } from "./lzw.js";
import { compressCodec, MessageType } from "./messages.js";

/**
 * Packet (UDP) framing as memberlist's net.go does it: compound messages, optional LZW compression
 * (kept only when smaller), a CRC32 header for peers speaking protocol ≥ 5, and encryption with an empty
 * label as additional data.
 */

/** Overhead of a compound message, and per part (memberlist's compoundHeaderOverhead/compoundOverhead). */
export const COMPOUND_HEADER_OVERHEAD = 2;
export const COMPOUND_OVERHEAD = 2;

/** `[7][count][u16 BE length]*count[parts…]`; at most 255 parts of at most 65535 bytes. */
export function makeCompound(parts: readonly Uint8Array[]): Buffer {
  if (parts.length > 255)
    throw new RangeError(`a compound message holds at most 255 parts, got ${parts.length}`);
  const header = Buffer.alloc(2 + 2 * parts.length);
  header[0] = MessageType.compound;
  header[1] = parts.length;
  parts.forEach((part, i) => {
    if (part.length > 0xffff) throw new RangeError(`compound part of ${part.length} bytes`);
    header.writeUInt16BE(part.length, 2 + 2 * i);
  });
  return Buffer.concat([header, ...parts]);
}

/** Splits a compound body (after the type byte). `truncated` counts parts cut off by the packet end. */
export function splitCompound(body: Uint8Array): { parts: Buffer[]; truncated: number } {
  if (body.length < 1)
    throw new PluginSdkError("MESSAGE_MALFORMED", "compound message without a length byte");
  const count = body[0]!;
  if (body.length < 1 + 2 * count) {
    throw new PluginSdkError(
      "MESSAGE_MALFORMED",
      `compound message of ${count} parts has a truncated length table`,
    );
  }
  const buf = Buffer.from(body.buffer, body.byteOffset, body.length);
  const parts: Buffer[] = [];
  let offset = 1 + 2 * count;
  for (let i = 0; i < count; i++) {
    const length = buf.readUInt16BE(1 + 2 * i);
    if (offset + length > buf.length) return { parts, truncated: count - i };
    parts.push(buf.subarray(offset, offset + length));
    offset += length;
  }
  return { parts, truncated: 0 };
}

/** `[9][msgpack compress{Algo: 0, Buf: lzw(message)}]`. */
export function compressMessage(message: Uint8Array): Buffer {
  return compressCodec.message({ algo: 0, buf: lzwCompress(message) });
}

/** The message inside a `compress` body (after the type byte); `maxOutput` bounds the decompressed size. */
export function decompressMessage(body: Uint8Array, maxOutput: number): Buffer {
  const { value } = compressCodec.decode(body);
  if (value.algo !== 0) {
    throw new PluginSdkError("MESSAGE_MALFORMED", `cannot decompress unknown algorithm ${value.algo}`, {
      algo: value.algo,
    });
  }
  const out = lzwDecompress(value.buf, maxOutput);
  if (out.length === 0) throw new PluginSdkError("MESSAGE_MALFORMED", "compressed message is empty");
  return out;
}

export interface EncodePacketOptions {
  compress: boolean;
  /** Add the CRC32 header (the recipient speaks protocol ≥ 5). */
  crc: boolean;
  keyring?: Keyring | undefined;
}

/** A message ready for the UDP socket. */
export function encodePacket(message: Uint8Array, options: EncodePacketOptions): Buffer {
  let out = Buffer.from(message.buffer, message.byteOffset, message.length);
  if (options.compress) {
    const compressed = compressMessage(out);
    if (compressed.length < out.length) out = compressed;
  }
  if (options.crc) {
    const header = Buffer.alloc(5);
    header[0] = MessageType.hasCrc;
    header.writeUInt32BE(crc32(out) >>> 0, 1);
    out = Buffer.concat([header, out]);
  }
  return options.keyring ? options.keyring.encrypt(out) : out;
}

export interface DecodePacketOptions {
  keyring?: Keyring | undefined;
  /** Refuse plaintext when a keyring is set (memberlist's GossipVerifyIncoming). */
  verifyIncoming: boolean;
}

/** Decrypts a received datagram and checks its CRC; returns the message (type byte first). */
export function decodePacket(datagram: Uint8Array, options: DecodePacketOptions): Buffer {
  let buf = Buffer.from(datagram.buffer, datagram.byteOffset, datagram.length);
  if (options.keyring) {
    try {
      buf = options.keyring.decrypt(buf);
    } catch (err) {
      if (options.verifyIncoming) throw err;
    }
  }
  if (buf.length >= 5 && buf[0] === MessageType.hasCrc) {
    const expected = buf.readUInt32BE(1);
    const actual = crc32(buf.subarray(5)) >>> 0;
    if (actual !== expected) {
      throw new PluginSdkError(
        "MESSAGE_MALFORMED",
        `packet checksum mismatch: got ${actual.toString(16)}, header says ${expected.toString(16)}`,
      );
    }
    buf = buf.subarray(5);
  }
  if (buf.length === 0) throw new PluginSdkError("MESSAGE_MALFORMED", "empty packet");
  return buf;
}
