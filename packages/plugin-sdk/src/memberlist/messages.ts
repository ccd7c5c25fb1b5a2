import { PluginSdkError } from "../errors.js";
import { decodeMsgpack, encodeMsgpack, type MsgpackInput, type MsgpackValue } from "./msgpack.js";

/**
 * memberlist's message types (net.go) and their msgpack bodies. go-msgpack encodes a struct as a map
 * keyed by Go field name, keys sorted by name, `omitempty` fields left out when zero; decoding matches
 * names exactly, ignores unknown keys and takes nil or a missing key as the zero value.
 */
export const MessageType = {
  ping: 0,
  indirectPing: 1,
  ackResp: 2,
  suspect: 3,
  alive: 4,
  dead: 5,
  pushPull: 6,
  compound: 7,
  user: 8,
  compress: 9,
  encrypt: 10,
  nackResp: 11,
  hasCrc: 12,
  err: 13,
  /** memberlist ≥ 0.3 with a gossip label configured (Beskar configures none). */
  hasLabel: 244,
} as const;
export type MessageTypeValue = (typeof MessageType)[keyof typeof MessageType];

export function messageTypeName(type: number): string {
  return Object.entries(MessageType).find(([, v]) => v === type)?.[0] ?? `#${type}`;
}

/** memberlist's NodeStateType. */
export const NodeStateType = { alive: 0, suspect: 1, dead: 2, left: 3 } as const;
export type NodeStateTypeValue = (typeof NodeStateType)[keyof typeof NodeStateType];

export interface Ping {
  seqNo: number;
  /** Target node name, so a restarted node with a new name does not answer for the old one. */
  node: string;
  sourceAddr?: Uint8Array;
  sourcePort?: number;
  sourceNode?: string;
}

export interface IndirectPingReq {
  seqNo: number;
  target: Uint8Array;
  port: number;
  node: string;
  /** Whether the requester wants a nack when the target does not answer (protocol ≥ 4). */
  nack: boolean;
  sourceAddr?: Uint8Array;
  sourcePort?: number;
  sourceNode?: string;
}

export interface AckResp {
  seqNo: number;
  payload: Uint8Array;
}

export interface NackResp {
  seqNo: number;
}

export interface ErrResp {
  error: string;
}

export interface Suspect {
  incarnation: number;
  node: string;
  from: string;
}

export interface Alive {
  incarnation: number;
  node: string;
  addr: Uint8Array;
  port: number;
  meta: Uint8Array;
  /** pmin, pmax, pcur, dmin, dmax, dcur. */
  vsn: Uint8Array;
}

export interface Dead {
  incarnation: number;
  node: string;
  /** Who declares it dead; `from === node` means the node left on purpose. */
  from: string;
}

export interface PushPullHeader {
  nodes: number;
  userStateLen: number;
  join: boolean;
}

export interface PushNodeState {
  name: string;
  addr: Uint8Array;
  port: number;
  meta: Uint8Array;
  incarnation: number;
  state: NodeStateTypeValue;
  vsn: Uint8Array;
}

export interface Compress {
  algo: number;
  buf: Uint8Array;
}

export interface UserMsgHeader {
  userMsgLen: number;
}

type Kind = "u8" | "u16" | "u32" | "int" | "bool" | "string" | "bytes";

interface Field<T> {
  go: string;
  key: keyof T & string;
  kind: Kind;
  /** go-msgpack `omitempty`: left out when zero. */
  omitEmpty?: boolean;
}

const MAX: Record<"u8" | "u16" | "u32" | "int", number> = {
  u8: 0xff,
  u16: 0xffff,
  u32: 0xffff_ffff,
  int: Number.MAX_SAFE_INTEGER,
};

/** Encoder/decoder of one memberlist struct. */
export interface StructCodec<T> {
  readonly name: string;
  /** The msgpack body alone (no message type byte). */
  encode(value: T): Buffer;
  /** The message: type byte + body. */
  message(value: T): Buffer;
  decode(bytes: Uint8Array, offset?: number): { value: T; offset: number };
}

function isEmpty(v: unknown): boolean {
  return v === undefined || v === 0 || v === false || v === "" || (v instanceof Uint8Array && v.length === 0);
}

function defineStruct<T>(name: string, type: number, fields: Field<T>[]): StructCodec<T> {
  const sorted = [...fields].sort((a, b) => (a.go < b.go ? -1 : a.go > b.go ? 1 : 0));
  const byGo = new Map(fields.map((f) => [f.go, f]));
  const encode = (value: T): Buffer => {
    const obj: Record<string, MsgpackInput> = {};
    for (const f of sorted) {
      const v = (value as Record<string, unknown>)[f.key];
      if (f.omitEmpty && isEmpty(v)) continue;
      obj[f.go] = toInput(v, f, name);
    }
    return encodeMsgpack(obj);
  };
  return {
    name,
    encode,
    message: (value) => Buffer.concat([Buffer.from([type]), encode(value)]),
    decode(bytes, offset = 0) {
      const decoded = decodeMsgpack(bytes, offset);
      if (!(decoded.value instanceof Map)) {
        throw malformed(name, `expected a map, got ${describe(decoded.value)}`);
      }
      const out: Record<string, unknown> = {};
      for (const f of fields) out[f.key] = zero(f.kind);
      for (const [key, raw] of decoded.value) {
        const f = byGo.get(key);
        if (f) out[f.key] = fromValue(raw, f, name);
      }
      return { value: out as T, offset: decoded.offset };
    },
  };
}

function zero(kind: Kind): unknown {
  if (kind === "bool") return false;
  if (kind === "string") return "";
  if (kind === "bytes") return new Uint8Array();
  return 0;
}

function toInput<T>(v: unknown, f: Field<T>, struct: string): MsgpackInput {
  if (v === undefined) return f.kind === "bytes" ? null : (zero(f.kind) as MsgpackInput);
  if (f.kind === "bytes" && !(v instanceof Uint8Array))
    throw new TypeError(`${struct}.${f.go} must be bytes`);
  if (f.kind in MAX) {
    const max = MAX[f.kind as keyof typeof MAX];
    if (typeof v !== "number" || !Number.isInteger(v) || v > max || (f.kind !== "int" && v < 0)) {
      throw new RangeError(`${struct}.${f.go} = ${String(v)} is not a valid ${f.kind}`);
    }
  }
  return v as MsgpackInput;
}

function fromValue<T>(raw: MsgpackValue, f: Field<T>, struct: string): unknown {
  if (raw === null) return zero(f.kind);
  switch (f.kind) {
    case "bool":
      if (typeof raw === "boolean") return raw;
      break;
    case "string":
      if (raw instanceof Uint8Array) return Buffer.from(raw).toString("utf8");
      break;
    case "bytes":
      if (raw instanceof Uint8Array) return raw;
      if (Array.isArray(raw) && raw.every((b) => typeof b === "number" && b >= 0 && b <= 255)) {
        return Uint8Array.from(raw as number[]);
      }
      break;
    default: {
      const max = MAX[f.kind];
      const min = f.kind === "int" ? -max : 0;
      if (typeof raw === "number" && Number.isInteger(raw) && raw >= min && raw <= max) return raw;
      if (typeof raw === "number" || typeof raw === "bigint") {
        throw malformed(struct, `${f.go} = ${raw} does not fit a ${f.kind}`);
      }
    }
  }
  throw malformed(struct, `${f.go} should be ${f.kind}, got ${describe(raw)}`);
}

function describe(v: MsgpackValue): string {
  if (v === null) return "nil";
  if (v instanceof Uint8Array) return `${v.length} raw bytes`;
  if (v instanceof Map) return "a map";
  if (Array.isArray(v)) return "an array";
  return `${typeof v} ${String(v)}`;
}

function malformed(struct: string, message: string): PluginSdkError {
  return new PluginSdkError("MESSAGE_MALFORMED", `memberlist ${struct}: ${message}`, { struct });
}

const source = <T>(): Field<T>[] =>
  [
    { go: "SourceAddr", key: "sourceAddr", kind: "bytes", omitEmpty: true },
    { go: "SourcePort", key: "sourcePort", kind: "u16", omitEmpty: true },
    { go: "SourceNode", key: "sourceNode", kind: "string", omitEmpty: true },
  ] as Field<T>[];

export const pingCodec = defineStruct<Ping>("ping", MessageType.ping, [
  { go: "SeqNo", key: "seqNo", kind: "u32" },
  { go: "Node", key: "node", kind: "string" },
  ...source<Ping>(),
]);

export const indirectPingCodec = defineStruct<IndirectPingReq>("indirectPingReq", MessageType.indirectPing, [
  { go: "SeqNo", key: "seqNo", kind: "u32" },
  { go: "Target", key: "target", kind: "bytes" },
  { go: "Port", key: "port", kind: "u16" },
  { go: "Node", key: "node", kind: "string" },
  { go: "Nack", key: "nack", kind: "bool" },
  ...source<IndirectPingReq>(),
]);

export const ackRespCodec = defineStruct<AckResp>("ackResp", MessageType.ackResp, [
  { go: "SeqNo", key: "seqNo", kind: "u32" },
  { go: "Payload", key: "payload", kind: "bytes" },
]);

export const nackRespCodec = defineStruct<NackResp>("nackResp", MessageType.nackResp, [
  { go: "SeqNo", key: "seqNo", kind: "u32" },
]);

export const errRespCodec = defineStruct<ErrResp>("errResp", MessageType.err, [
  { go: "Error", key: "error", kind: "string" },
]);

export const suspectCodec = defineStruct<Suspect>("suspect", MessageType.suspect, [
  { go: "Incarnation", key: "incarnation", kind: "u32" },
  { go: "Node", key: "node", kind: "string" },
  { go: "From", key: "from", kind: "string" },
]);

export const aliveCodec = defineStruct<Alive>("alive", MessageType.alive, [
  { go: "Incarnation", key: "incarnation", kind: "u32" },
  { go: "Node", key: "node", kind: "string" },
  { go: "Addr", key: "addr", kind: "bytes" },
  { go: "Port", key: "port", kind: "u16" },
  { go: "Meta", key: "meta", kind: "bytes" },
  { go: "Vsn", key: "vsn", kind: "bytes" },
]);

export const deadCodec = defineStruct<Dead>("dead", MessageType.dead, [
  { go: "Incarnation", key: "incarnation", kind: "u32" },
  { go: "Node", key: "node", kind: "string" },
  { go: "From", key: "from", kind: "string" },
]);

export const pushPullHeaderCodec = defineStruct<PushPullHeader>("pushPullHeader", MessageType.pushPull, [
  { go: "Nodes", key: "nodes", kind: "int" },
  { go: "UserStateLen", key: "userStateLen", kind: "int" },
  { go: "Join", key: "join", kind: "bool" },
]);

export const pushNodeStateCodec = defineStruct<PushNodeState>("pushNodeState", MessageType.pushPull, [
  { go: "Name", key: "name", kind: "string" },
  { go: "Addr", key: "addr", kind: "bytes" },
  { go: "Port", key: "port", kind: "u16" },
  { go: "Meta", key: "meta", kind: "bytes" },
  { go: "Incarnation", key: "incarnation", kind: "u32" },
  { go: "State", key: "state", kind: "int" },
  { go: "Vsn", key: "vsn", kind: "bytes" },
]);

export const compressCodec = defineStruct<Compress>("compress", MessageType.compress, [
  { go: "Algo", key: "algo", kind: "u8" },
  { go: "Buf", key: "buf", kind: "bytes" },
]);

export const userMsgHeaderCodec = defineStruct<UserMsgHeader>("userMsgHeader", MessageType.user, [
  { go: "UserMsgLen", key: "userMsgLen", kind: "int" },
]);
