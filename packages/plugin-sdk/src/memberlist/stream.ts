import { isPluginSdkError, PluginSdkError } from "../errors.js";
import type { Keyring } from "./keyring.js";
import { ENCRYPT_OVERHEAD } from "./keyring.js";
import {
  MessageType,
  type PushNodeState,
  type PushPullHeader,
  pushNodeStateCodec,
  pushPullHeaderCodec,
  userMsgHeaderCodec,
} from "./messages.js";
import { compressMessage, decompressMessage } from "./packet.js";

/**
 * Stream (TCP) framing as memberlist's net.go does it. Sending: the whole message is LZW-compressed when
 * compression is on (always, even when larger), then encrypted as `[10][u32 BE length][payload]` with
 * those 5 bytes as additional data. Receiving: the same in reverse; plaintext streams carry no length, so
 * the reader is fed the bytes seen so far and answers "need more" until the message parses.
 */

export interface StreamCodecOptions {
  compress: boolean;
  keyring?: Keyring | undefined;
  /** Refuse plaintext streams when a keyring is set (GossipVerifyIncoming). */
  verifyIncoming: boolean;
  /** Largest encrypted frame or decompressed message accepted (memberlist: 20 MiB). */
  maxBytes: number;
}

/** Frames `message` (type byte first) for a stream. */
export function encodeStreamMessage(message: Uint8Array, options: StreamCodecOptions): Buffer {
  let out = options.compress ? compressMessage(message) : Buffer.from(message);
  if (options.keyring) {
    const header = Buffer.alloc(5);
    header[0] = MessageType.encrypt;
    header.writeUInt32BE(ENCRYPT_OVERHEAD + out.length, 1);
    out = Buffer.concat([header, options.keyring.encrypt(out, header)]);
  }
  return out;
}

/** A message read off a stream: its type and the bytes after the type byte. */
export interface StreamMessage {
  type: number;
  body: Buffer;
  /** True when the message was length-delimited (encrypted or compressed): running short is an error then. */
  framed: boolean;
}

/**
 * Reads the message at the start of `received` (all bytes seen on the connection so far). Returns
 * undefined when more bytes are needed; throws `PluginSdkError` when the stream is invalid.
 */
export function readStreamMessage(received: Buffer, options: StreamCodecOptions): StreamMessage | undefined {
  if (received.length < 1) return undefined;
  let type = received[0]!;
  let body: Buffer;
  let framed = false;
  if (type === MessageType.encrypt) {
    if (!options.keyring) {
      throw new PluginSdkError(
        "ENCRYPTION_MISMATCH",
        "remote state is encrypted and encryption is not configured (set the gossip key)",
      );
    }
    if (received.length < 5) return undefined;
    const length = received.readUInt32BE(1);
    if (length > options.maxBytes) {
      throw new PluginSdkError(
        "MESSAGE_TOO_LARGE",
        `remote node state of ${length} bytes exceeds ${options.maxBytes}`,
        {
          length,
        },
      );
    }
    if (received.length < 5 + length) return undefined;
    const plain = options.keyring.decrypt(received.subarray(5, 5 + length), received.subarray(0, 5));
    if (plain.length === 0) throw new PluginSdkError("MESSAGE_MALFORMED", "empty encrypted stream message");
    type = plain[0]!;
    body = plain.subarray(1);
    framed = true;
  } else {
    if (options.keyring && options.verifyIncoming) {
      throw new PluginSdkError(
        "ENCRYPTION_MISMATCH",
        "encryption is configured but the remote stream is not encrypted (the peer has no gossip key)",
      );
    }
    body = received.subarray(1);
  }
  if (type === MessageType.compress) {
    let inner: Buffer;
    try {
      inner = decompressMessage(body, options.maxBytes);
    } catch (err) {
      if (!framed && isPluginSdkError(err, "MSGPACK_TRUNCATED")) return undefined;
      throw err;
    }
    type = inner[0]!;
    body = inner.subarray(1);
    framed = true;
  }
  return { type, body, framed };
}

/**
 * Runs `parse` on a stream body; a msgpack/user-state shortfall means "need more" (undefined) for an
 * unframed message and malformed input for a framed one.
 */
export function parseStreamBody<T>(message: StreamMessage, parse: (body: Buffer) => T): T | undefined {
  try {
    return parse(message.body);
  } catch (err) {
    if (isPluginSdkError(err, "MSGPACK_TRUNCATED")) {
      if (!message.framed) return undefined;
      throw new PluginSdkError(
        "MESSAGE_MALFORMED",
        `stream message ends early: ${err.message}`,
        {},
        { cause: err },
      );
    }
    throw err;
  }
}

export interface PushPull {
  header: PushPullHeader;
  nodes: PushNodeState[];
  /** Empty when the peer sent none. */
  userState: Buffer;
}

/** Limits for a push/pull body. */
export interface PushPullLimits {
  maxNodes: number;
  maxUserState: number;
}

/** Parses a push/pull body: header, `Nodes` node states, then `UserStateLen` raw bytes. */
export function parsePushPull(body: Buffer, limits: PushPullLimits): PushPull {
  let { value: header, offset } = pushPullHeaderCodec.decode(body);
  if (header.nodes < 0 || header.nodes > limits.maxNodes) {
    throw new PluginSdkError(
      "MESSAGE_TOO_LARGE",
      `push/pull announces ${header.nodes} nodes (limit ${limits.maxNodes})`,
    );
  }
  if (header.userStateLen < 0 || header.userStateLen > limits.maxUserState) {
    throw new PluginSdkError(
      "MESSAGE_TOO_LARGE",
      `push/pull announces ${header.userStateLen} bytes of user state (limit ${limits.maxUserState})`,
    );
  }
  const nodes: PushNodeState[] = [];
  for (let i = 0; i < header.nodes; i++) {
    const decoded = pushNodeStateCodec.decode(body, offset);
    nodes.push(decoded.value);
    offset = decoded.offset;
  }
  if (body.length - offset < header.userStateLen) {
    throw new PluginSdkError(
      "MSGPACK_TRUNCATED",
      `user state of ${header.userStateLen} bytes, ${body.length - offset} received`,
    );
  }
  const userState = Buffer.from(body.subarray(offset, offset + header.userStateLen));
  return { header, nodes, userState };
}

/** The push/pull message (type byte first, before stream framing). */
export function buildPushPull(join: boolean, nodes: readonly PushNodeState[], userState: Uint8Array): Buffer {
  return Buffer.concat([
    pushPullHeaderCodec.message({ nodes: nodes.length, userStateLen: userState.length, join }),
    ...nodes.map((n) => pushNodeStateCodec.encode(n)),
    userState,
  ]);
}

/** Parses a user message body: header then `UserMsgLen` bytes. */
export function parseUserMsg(body: Buffer, maxBytes: number): Buffer {
  const { value, offset } = userMsgHeaderCodec.decode(body);
  if (value.userMsgLen < 0 || value.userMsgLen > maxBytes) {
    throw new PluginSdkError(
      "MESSAGE_TOO_LARGE",
      `user message of ${value.userMsgLen} bytes (limit ${maxBytes})`,
    );
  }
  if (body.length - offset < value.userMsgLen) {
    throw new PluginSdkError("MSGPACK_TRUNCATED", `user message of ${value.userMsgLen} bytes is incomplete`);
  }
  return Buffer.from(body.subarray(offset, offset + value.userMsgLen));
}
