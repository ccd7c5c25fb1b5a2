import { describe, expect, it } from "vitest";
import { isPluginSdkError } from "../errors.js";
import { aliveCodec, MessageType, messageTypeName, pingCodec, pushPullHeaderCodec } from "./messages.js";
import { encodeMsgpack } from "./msgpack.js";

describe("message codecs", () => {
  it("encode a struct as go-msgpack does: map keyed by field name, sorted, omitempty left out", () => {
    const body = pingCodec.encode({ seqNo: 1, node: "n" });
    expect(body.toString("hex")).toBe(
      `82${Buffer.from("\xa4Node\xa1n\xa5SeqNo\x01", "latin1").toString("hex")}`,
    );
    expect(pingCodec.message({ seqNo: 1, node: "n" })[0]).toBe(MessageType.ping);
  });

  it("decode with zero values for missing or nil fields and ignore unknown keys", () => {
    const bytes = encodeMsgpack({
      Incarnation: 3,
      Node: "x",
      Meta: null,
      Extra: [1, 2],
      Vsn: [1, 5, 2, 0, 0, 0],
    });
    const { value, offset } = aliveCodec.decode(bytes);
    expect(offset).toBe(bytes.length);
    expect(value).toEqual({
      incarnation: 3,
      node: "x",
      addr: new Uint8Array(),
      port: 0,
      meta: new Uint8Array(),
      vsn: Uint8Array.from([1, 5, 2, 0, 0, 0]),
    });
  });

  it("refuse values of the wrong type or range", () => {
    const bad = [
      encodeMsgpack({ SeqNo: "x", Node: "n" }),
      encodeMsgpack({ SeqNo: 2 ** 32, Node: "n" }),
      encodeMsgpack({ SeqNo: -1, Node: "n" }),
      encodeMsgpack({ SeqNo: 1, Node: 5 }),
      encodeMsgpack([1, 2]),
    ];
    for (const bytes of bad) {
      expect(() => pingCodec.decode(bytes)).toThrow(/memberlist ping/);
      try {
        pingCodec.decode(bytes);
      } catch (err) {
        expect(isPluginSdkError(err, "MESSAGE_MALFORMED")).toBe(true);
      }
    }
    expect(() => pushPullHeaderCodec.encode({ nodes: 1.5, userStateLen: 0, join: false })).toThrow(
      RangeError,
    );
    expect(messageTypeName(12)).toBe("hasCrc");
    expect(messageTypeName(99)).toBe("#99");
  });
});
