import { randomBytes } from "node:crypto";
import { crc32 } from "node:zlib";
import { describe, expect, it } from "vitest";
import { Keyring } from "./keyring.js";
import { MessageType, pingCodec } from "./messages.js";
import { decodePacket, decompressMessage, encodePacket, makeCompound, splitCompound } from "./packet.js";

describe("compound messages", () => {
  it("pack parts behind a length table and split them back, counting truncated parts", () => {
    const parts = [Buffer.from("a"), Buffer.from("bcd"), Buffer.alloc(0)];
    const compound = makeCompound(parts);
    expect(compound.subarray(0, 8).toString("hex")).toBe("0703000100030000");
    expect(splitCompound(compound.subarray(1))).toEqual({ parts, truncated: 0 });
    expect(splitCompound(compound.subarray(1, compound.length - 2))).toEqual({
      parts: [parts[0]],
      truncated: 2,
    });
    expect(() => splitCompound(Buffer.from([3, 0]))).toThrow(/truncated length table/);
  });
});

describe("encodePacket / decodePacket", () => {
  const ping = pingCodec.message({ seqNo: 1, node: "node".repeat(30) });

  it("compresses only when it helps, adds a CRC for protocol 5 peers, encrypts", () => {
    const ring = new Keyring([randomBytes(32)]);
    const plain = encodePacket(ping, { compress: true, crc: false });
    expect(plain[0]).toBe(MessageType.compress);
    expect(decompressMessage(plain.subarray(1), 1000).equals(ping)).toBe(true);
    const tiny = pingCodec.message({ seqNo: 1, node: "n" });
    expect(encodePacket(tiny, { compress: true, crc: false }).equals(tiny)).toBe(true);
    const withCrc = encodePacket(tiny, { compress: false, crc: true });
    expect(withCrc[0]).toBe(MessageType.hasCrc);
    expect(withCrc.readUInt32BE(1)).toBe(crc32(tiny) >>> 0);
    expect(decodePacket(withCrc, { verifyIncoming: true }).equals(tiny)).toBe(true);
    const sealed = encodePacket(tiny, { compress: false, crc: true, keyring: ring });
    expect(decodePacket(sealed, { keyring: ring, verifyIncoming: true }).equals(tiny)).toBe(true);
  });

  it("refuses bad checksums, and plaintext when incoming packets must be encrypted", () => {
    const withCrc = encodePacket(ping, { compress: false, crc: true });
    withCrc[withCrc.length - 1]! ^= 1;
    expect(() => decodePacket(withCrc, { verifyIncoming: true })).toThrow(/checksum mismatch/);
    const ring = new Keyring([randomBytes(16)]);
    expect(() => decodePacket(ping, { keyring: ring, verifyIncoming: true })).toThrow(
      /too small|no installed key/,
    );
    expect(decodePacket(ping, { keyring: ring, verifyIncoming: false }).equals(ping)).toBe(true);
  });
});
