import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { lzwCompress, lzwDecompress } from "./lzw.js";

describe("lzwCompress / lzwDecompress", () => {
  it("round-trip, table resets included", () => {
    for (const input of [
      Buffer.alloc(0),
      Buffer.from("x"),
      Buffer.from("ab".repeat(9000)),
      randomBytes(50_000),
    ]) {
      expect(lzwDecompress(lzwCompress(input), input.length).equals(input)).toBe(true);
    }
  });

  it("starts with a clear code and ends with the end code, as Go's writer", () => {
    // 9-bit codes, LSB first: clear (256) then eof (257).
    expect(lzwCompress(Buffer.alloc(0)).toString("hex")).toBe("000302");
  });

  it("refuses invalid codes, missing end codes and oversized output", () => {
    expect(() => lzwDecompress(Buffer.from([0x00, 0xfe, 0xff]), 100)).toThrow(/invalid code/);
    const data = lzwCompress(Buffer.from("hello hello hello"));
    expect(() => lzwDecompress(data.subarray(0, data.length - 2), 100)).toThrow(/without the end code/);
    expect(() => lzwDecompress(data, 5)).toThrow(/exceeds 5 bytes/);
  });
});
