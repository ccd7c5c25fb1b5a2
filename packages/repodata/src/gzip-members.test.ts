import { gunzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { compressMember, gzipMember, readGzipMembers } from "./gzip-members.js";

describe("indexed gzip members", () => {
  it("concatenate into one valid gzip stream whose members are found without inflating", async () => {
    const parts = ["<?xml?>\n<root>\n", "<a>1</a>\n".repeat(1000), "<b>ünï</b>\n", "</root>"];
    const members = await Promise.all(parts.map((p, i) => compressMember(Buffer.from(p), { count: i })));
    const file = Buffer.concat(members.map((m) => m.bytes));
    expect(gunzipSync(file).toString()).toBe(parts.join(""));
    const found = readGzipMembers(file)!;
    expect(found.map((m) => [m.size, m.crc, m.count])).toEqual(members.map((m) => [m.size, m.crc, m.count]));
    expect(found.map((m) => gunzipSync(m.bytes).toString())).toEqual(parts);
    expect(Buffer.concat(found.map((m) => m.bytes)).equals(file)).toBe(true);
  });

  it("are not claimed in plain gzip or a damaged index", async () => {
    const plain = (await import("node:zlib")).gzipSync(Buffer.from("plain"));
    expect(readGzipMembers(plain)).toBeUndefined();
    const member = (await compressMember(Buffer.from("x".repeat(100)))).bytes;
    expect(readGzipMembers(member.subarray(0, member.length - 1))).toBeUndefined();
    const wrongLength = Buffer.from(member);
    wrongLength.writeUInt32LE(member.length + 5, 16);
    expect(readGzipMembers(wrongLength)).toBeUndefined();
    expect(readGzipMembers(Buffer.alloc(0))).toBeUndefined();
    expect(readGzipMembers(Buffer.concat([member, plain]))).toBeUndefined();
  });

  it("writes a reproducible header: no mtime, no name", () => {
    const a = gzipMember(Buffer.from([3, 0]), 0, 0, 7);
    expect([...a.subarray(0, 10)]).toEqual([0x1f, 0x8b, 8, 4, 0, 0, 0, 0, 0, 0xff]);
    expect(gunzipSync(a).length).toBe(0);
  });
});
