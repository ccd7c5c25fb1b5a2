import { describe, expect, it } from "vitest";
import { isPluginSdkError } from "../errors.js";
import { decodeMsgpack, encodeMsgpack } from "./msgpack.js";

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");
const code = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    return isPluginSdkError(err) ? err.code : String(err);
  }
  return "ok";
};

describe("encodeMsgpack", () => {
  it("uses go-msgpack's old-spec forms: raw for strings and bytes, smallest integers", () => {
    expect(hex(encodeMsgpack("abc"))).toBe("a3616263");
    expect(hex(encodeMsgpack(Buffer.alloc(31)))).toBe(`bf${"00".repeat(31)}`);
    expect(hex(encodeMsgpack(Buffer.alloc(32))).slice(0, 6)).toBe("da0020"); // raw16, never str8
    expect(hex(encodeMsgpack(Buffer.alloc(70_000))).slice(0, 10)).toBe("db00011170");
    expect(
      [0, 127, 128, 255, 256, 65535, 65536, 2 ** 32 - 1, 2 ** 32].map((n) => hex(encodeMsgpack(n))),
    ).toEqual([
      "00",
      "7f",
      "cc80",
      "ccff",
      "cd0100",
      "cdffff",
      "ce00010000",
      "ceffffffff",
      "cf0000000100000000",
    ]);
    expect([-1, -32, -33, -128, -129, -32768, -32769].map((n) => hex(encodeMsgpack(n)))).toEqual([
      "ff",
      "e0",
      "d0df",
      "d080",
      "d1ff7f",
      "d18000",
      "d2ffff7fff",
    ]);
    expect(hex(encodeMsgpack({ B: true, A: null, skipped: undefined }))).toBe("82a142c3a141c0");
    expect(hex(encodeMsgpack([1, [2]]))).toBe("920191" + "02");
  });
});

describe("decodeMsgpack", () => {
  it("reads every form memberlist peers may send, str8 and bin included", () => {
    const cases: [string, unknown][] = [
      ["d903616263", Buffer.from("abc")],
      ["c403010203", Buffer.from([1, 2, 3])],
      ["c50002aabb", Buffer.from([0xaa, 0xbb])],
      ["cf0000000100000000", 2 ** 32],
      ["cfffffffffffffffff", 0xffff_ffff_ffff_ffffn],
      ["d3ffffffffffffffff", -1],
      ["ca3f800000", 1],
      ["cb3ff8000000000000", 1.5],
      ["c2", false],
    ];
    for (const [input, expected] of cases) {
      const { value, offset } = decodeMsgpack(Buffer.from(input, "hex"));
      if (expected instanceof Buffer) expect(Buffer.from(value as Uint8Array).equals(expected)).toBe(true);
      else expect(value).toEqual(expected);
      expect(offset).toBe(input.length / 2);
    }
    const map = decodeMsgpack(Buffer.from("82a14101a1429102", "hex")).value as Map<string, unknown>;
    expect([...map.entries()]).toEqual([
      ["A", 1],
      ["B", [2]],
    ]);
  });

  it("says 'truncated' at every cut, so a stream reader can wait for more", () => {
    const full = encodeMsgpack({ Name: "node", Addr: Buffer.from([127, 0, 0, 1]), Vsn: [1, 2, 3], N: 70000 });
    for (let cut = 0; cut < full.length; cut++)
      expect(code(() => decodeMsgpack(full.subarray(0, cut)))).toBe("MSGPACK_TRUNCATED");
    // A hostile length is only "not there yet": nothing is allocated for it.
    expect(code(() => decodeMsgpack(Buffer.from("dbffffffff00", "hex")))).toBe("MSGPACK_TRUNCATED");
    expect(code(() => decodeMsgpack(Buffer.from("ddffffffff", "hex")))).toBe("MSGPACK_TRUNCATED");
  });

  it("refuses invalid input with the offset", () => {
    expect(() => decodeMsgpack(Buffer.from("81c1c0", "hex"))).toThrow(
      /unsupported type byte 0xc1 at offset 1/,
    );
    expect(code(() => decodeMsgpack(Buffer.from("d40100", "hex")))).toBe("MSGPACK_MALFORMED"); // ext
    expect(code(() => decodeMsgpack(Buffer.from("81c301", "hex")))).toBe("MSGPACK_MALFORMED"); // bool key
    const deep = Buffer.from(`${"91".repeat(20)}00`, "hex");
    expect(code(() => decodeMsgpack(deep))).toBe("MSGPACK_MALFORMED");
    expect(code(() => decodeMsgpack(deep, 0, { maxDepth: 32 }))).toBe("ok");
  });
});
