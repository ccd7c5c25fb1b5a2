import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { isPluginSdkError } from "../errors.js";
import { Keyring } from "./keyring.js";
import { MessageType, type PushNodeState } from "./messages.js";
import {
  buildPushPull,
  encodeStreamMessage,
  parsePushPull,
  parseStreamBody,
  readStreamMessage,
  type StreamCodecOptions,
} from "./stream.js";

const node: PushNodeState = {
  name: "n1",
  addr: Buffer.from([127, 0, 0, 1]),
  port: 7946,
  meta: Buffer.from("meta"),
  incarnation: 4,
  state: 0,
  vsn: Uint8Array.from([1, 5, 2, 0, 0, 0]),
};
const limits = { maxNodes: 10, maxUserState: 1000 };
const pushPull = buildPushPull(true, [node, { ...node, name: "n2", state: 3 }], Buffer.from('{"cert":"x"}'));

/** Reads `wire` as a connection would deliver it, one byte more at a time. */
function readIncrementally(wire: Buffer, options: StreamCodecOptions) {
  for (let n = 0; n <= wire.length; n++) {
    const message = readStreamMessage(wire.subarray(0, n), options);
    const parsed = message && parseStreamBody(message, (b) => parsePushPull(b, limits));
    if (parsed) return { parsed, bytesNeeded: n };
  }
  return undefined;
}

describe("stream messages", () => {
  const ring = new Keyring([randomBytes(32)]);
  const variants: [string, StreamCodecOptions][] = [
    ["plain", { compress: false, verifyIncoming: true, maxBytes: 1 << 20 }],
    ["compressed", { compress: true, verifyIncoming: true, maxBytes: 1 << 20 }],
    ["encrypted + compressed", { compress: true, keyring: ring, verifyIncoming: true, maxBytes: 1 << 20 }],
    ["encrypted", { compress: false, keyring: ring, verifyIncoming: true, maxBytes: 1 << 20 }],
  ];

  it.each(variants)("a push/pull round-trips %s, and is only read once complete", (_name, options) => {
    const wire = encodeStreamMessage(pushPull, options);
    if (options.keyring) expect(wire[0]).toBe(MessageType.encrypt);
    const result = readIncrementally(wire, options);
    expect(result?.bytesNeeded).toBe(wire.length);
    expect(result?.parsed.header).toEqual({ nodes: 2, userStateLen: 12, join: true });
    expect(result?.parsed.nodes.map((n) => [n.name, n.state])).toEqual([
      ["n1", 0],
      ["n2", 3],
    ]);
    expect(result?.parsed.userState.toString()).toBe('{"cert":"x"}');
  });

  it("tells an encryption mismatch apart from a wrong key, and refuses oversize frames", () => {
    const plain = variants[0]![1];
    const encrypted = variants[2]![1];
    const codeOf = (fn: () => unknown) => {
      try {
        fn();
      } catch (err) {
        return isPluginSdkError(err) ? `${err.code}: ${err.message}` : String(err);
      }
      return "ok";
    };
    expect(codeOf(() => readStreamMessage(encodeStreamMessage(pushPull, encrypted), plain))).toMatch(
      /^ENCRYPTION_MISMATCH: remote state is encrypted and encryption is not configured/,
    );
    expect(codeOf(() => readStreamMessage(encodeStreamMessage(pushPull, plain), encrypted))).toMatch(
      /^ENCRYPTION_MISMATCH: encryption is configured but the remote stream is not encrypted/,
    );
    const otherKey = { ...encrypted, keyring: new Keyring([randomBytes(32)]) };
    expect(codeOf(() => readStreamMessage(encodeStreamMessage(pushPull, encrypted), otherKey))).toMatch(
      /^DECRYPT_FAILED: no installed key could decrypt/,
    );
    const header = Buffer.from([MessageType.encrypt, 0x7f, 0xff, 0xff, 0xff]);
    expect(codeOf(() => readStreamMessage(header, encrypted))).toMatch(/^MESSAGE_TOO_LARGE/);
  });

  it("enforces push/pull limits and reports a framed message that ends early as malformed", () => {
    expect(() => parsePushPull(pushPull.subarray(1), { maxNodes: 1, maxUserState: 1000 })).toThrow(
      /announces 2 nodes/,
    );
    expect(() => parsePushPull(pushPull.subarray(1), { maxNodes: 10, maxUserState: 5 })).toThrow(
      /12 bytes of user state/,
    );
    const short = {
      type: MessageType.pushPull,
      body: pushPull.subarray(1, pushPull.length - 3),
      framed: true,
    };
    expect(() => parseStreamBody(short, (b) => parsePushPull(b, limits))).toThrow(
      /stream message ends early/,
    );
    expect(parseStreamBody({ ...short, framed: false }, (b) => parsePushPull(b, limits))).toBeUndefined();
  });
});
