import { hexExcerpt, PluginSdkError } from "../errors.js";

/**
 * The msgpack subset memberlist speaks through hashicorp/go-msgpack's `MsgpackHandle{}` (v0.5.3, in both
 * memberlist 0.2.2 and 0.5.0). Encoding follows that handle: the *old* spec (`WriteExt` false), so strings
 * and `[]byte` are both "raw" (fixraw below 32 bytes, else raw16/raw32; never str8 or bin), integers take
 * the smallest form (non-negative ones as unsigned), nil slices are nil. Decoding accepts the whole spec
 * except extension types: str8 and bin8/16/32 too, nil for an absent value.
 */

/** A decoded value. Raw/str/bin all decode to bytes: the old spec does not tell strings from bytes. */
export type MsgpackValue = null | boolean | number | bigint | Uint8Array | MsgpackValue[] | MsgpackMap;
export type MsgpackMap = Map<string, MsgpackValue>;

/** What `encodeMsgpack` accepts. Object keys keep their insertion order; `undefined` members are omitted. */
export type MsgpackInput =
  | null
  | boolean
  | number
  | string
  | Uint8Array
  | readonly MsgpackInput[]
  | { readonly [key: string]: MsgpackInput | undefined };

export function encodeMsgpack(value: MsgpackInput): Buffer {
  const out: number[] = [];
  write(out, value, 0);
  return Buffer.from(out);
}

function writeBE(out: number[], value: number, bytes: number): void {
  for (let i = bytes - 1; i >= 0; i--) out.push(Math.floor(value / 2 ** (8 * i)) & 0xff);
}

function writeRaw(out: number[], bytes: Uint8Array): void {
  const n = bytes.length;
  if (n < 32) out.push(0xa0 | n);
  else if (n < 0x10000) {
    out.push(0xda);
    writeBE(out, n, 2);
  } else {
    out.push(0xdb);
    writeBE(out, n, 4);
  }
  for (const b of bytes) out.push(b);
}

function writeContainer(out: number[], n: number, fix: number, b16: number, b32: number): void {
  if (n < 16) out.push(fix | n);
  else if (n < 0x10000) {
    out.push(b16);
    writeBE(out, n, 2);
  } else {
    out.push(b32);
    writeBE(out, n, 4);
  }
}

function writeInt(out: number[], v: number): void {
  if (!Number.isSafeInteger(v)) throw new RangeError(`msgpack: only safe integers are supported, got ${v}`);
  if (v >= 0) {
    if (v <= 0x7f) out.push(v);
    else if (v <= 0xff) out.push(0xcc, v);
    else if (v <= 0xffff) {
      out.push(0xcd);
      writeBE(out, v, 2);
    } else if (v <= 0xffff_ffff) {
      out.push(0xce);
      writeBE(out, v, 4);
    } else {
      out.push(0xcf);
      writeBE(out, v, 8);
    }
    return;
  }
  if (v >= -32) out.push(v & 0xff);
  else if (v >= -128) out.push(0xd0, v & 0xff);
  else if (v >= -32768) {
    out.push(0xd1);
    writeBE(out, v & 0xffff, 2);
  } else if (v >= -(2 ** 31)) {
    out.push(0xd2);
    writeBE(out, v >>> 0, 4);
  } else {
    out.push(0xd3);
    const big = BigInt.asUintN(64, BigInt(v));
    for (let i = 7; i >= 0; i--) out.push(Number((big >> BigInt(8 * i)) & 0xffn));
  }
}

function write(out: number[], value: MsgpackInput, depth: number): void {
  if (depth > 32) throw new RangeError("msgpack: value nested too deeply");
  if (value === null) out.push(0xc0);
  else if (typeof value === "boolean") out.push(value ? 0xc3 : 0xc2);
  else if (typeof value === "number") writeInt(out, value);
  else if (typeof value === "string") writeRaw(out, Buffer.from(value, "utf8"));
  else if (value instanceof Uint8Array) writeRaw(out, value);
  else if (Array.isArray(value)) {
    writeContainer(out, value.length, 0x90, 0xdc, 0xdd);
    for (const item of value) write(out, item, depth + 1);
  } else {
    const entries = Object.entries(value as Record<string, MsgpackInput | undefined>).filter(
      (entry): entry is [string, MsgpackInput] => entry[1] !== undefined,
    );
    writeContainer(out, entries.length, 0x80, 0xde, 0xdf);
    for (const [key, item] of entries) {
      writeRaw(out, Buffer.from(key, "utf8"));
      write(out, item, depth + 1);
    }
  }
}

export interface DecodeLimits {
  /** Deepest nesting of arrays and maps. Default 8 (memberlist's messages are 2 deep). */
  maxDepth?: number;
}

/** One decoded value and the offset just after it. */
export interface Decoded {
  value: MsgpackValue;
  offset: number;
}

/**
 * Decodes one value at `offset`. Running out of bytes throws `MSGPACK_TRUNCATED` (a stream reader waits
 * for more); anything invalid throws `MSGPACK_MALFORMED`. Lengths are checked against the bytes present,
 * so a hostile length never allocates.
 */
export function decodeMsgpack(bytes: Uint8Array, offset = 0, limits: DecodeLimits = {}): Decoded {
  const reader = new Reader(bytes, offset, limits.maxDepth ?? 8);
  const value = reader.value(0);
  return { value, offset: reader.offset };
}

class Reader {
  constructor(
    private readonly bytes: Uint8Array,
    public offset: number,
    private readonly maxDepth: number,
  ) {}

  private need(n: number, what: string): void {
    if (this.offset + n > this.bytes.length) {
      throw new PluginSdkError(
        "MSGPACK_TRUNCATED",
        `msgpack: ${what} needs ${n} bytes at offset ${this.offset}, ${this.bytes.length - this.offset} left`,
        { offset: this.offset },
      );
    }
  }

  private malformed(message: string, at: number): PluginSdkError {
    return new PluginSdkError(
      "MSGPACK_MALFORMED",
      `msgpack: ${message} at offset ${at} (bytes ${hexExcerpt(this.bytes, at)})`,
      { offset: at },
    );
  }

  private uint(n: number): number {
    this.need(n, `a ${n}-byte number`);
    let v = 0;
    for (let i = 0; i < n; i++) v = v * 256 + this.bytes[this.offset++]!;
    return v;
  }

  private blob(n: number): Uint8Array {
    this.need(n, `a ${n}-byte string`);
    const out = this.bytes.slice(this.offset, this.offset + n);
    this.offset += n;
    return out;
  }

  value(depth: number): MsgpackValue {
    const at = this.offset;
    this.need(1, "a type byte");
    const b = this.bytes[this.offset++]!;
    if (b <= 0x7f) return b;
    if (b >= 0xe0) return b - 0x100;
    if (b >= 0xa0 && b <= 0xbf) return this.blob(b & 0x1f);
    if (b >= 0x90 && b <= 0x9f) return this.array(b & 0x0f, depth, at);
    if (b >= 0x80 && b <= 0x8f) return this.map(b & 0x0f, depth, at);
    switch (b) {
      case 0xc0:
        return null;
      case 0xc2:
        return false;
      case 0xc3:
        return true;
      case 0xc4:
      case 0xd9:
        return this.blob(this.uint(1));
      case 0xc5:
      case 0xda:
        return this.blob(this.uint(2));
      case 0xc6:
      case 0xdb:
        return this.blob(this.uint(4));
      case 0xca: {
        this.need(4, "a float32");
        const v = Buffer.from(this.bytes.buffer, this.bytes.byteOffset + this.offset, 4).readFloatBE(0);
        this.offset += 4;
        return v;
      }
      case 0xcb: {
        this.need(8, "a float64");
        const v = Buffer.from(this.bytes.buffer, this.bytes.byteOffset + this.offset, 8).readDoubleBE(0);
        this.offset += 8;
        return v;
      }
      case 0xcc:
        return this.uint(1);
      case 0xcd:
        return this.uint(2);
      case 0xce:
        return this.uint(4);
      case 0xcf: {
        const hi = this.uint(4);
        const lo = this.uint(4);
        const v = (BigInt(hi) << 32n) | BigInt(lo);
        return v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
      }
      case 0xd0: {
        const v = this.uint(1);
        return v >= 0x80 ? v - 0x100 : v;
      }
      case 0xd1: {
        const v = this.uint(2);
        return v >= 0x8000 ? v - 0x10000 : v;
      }
      case 0xd2: {
        const v = this.uint(4);
        return v >= 0x8000_0000 ? v - 0x1_0000_0000 : v;
      }
      case 0xd3: {
        const hi = this.uint(4);
        const lo = this.uint(4);
        const v = BigInt.asIntN(64, (BigInt(hi) << 32n) | BigInt(lo));
        return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
      }
      case 0xdc:
        return this.array(this.uint(2), depth, at);
      case 0xdd:
        return this.array(this.uint(4), depth, at);
      case 0xde:
        return this.map(this.uint(2), depth, at);
      case 0xdf:
        return this.map(this.uint(4), depth, at);
      default:
        throw this.malformed(`unsupported type byte 0x${b.toString(16)}`, at);
    }
  }

  private enter(count: number, perItem: number, depth: number, at: number): void {
    if (depth >= this.maxDepth) throw this.malformed(`nesting deeper than ${this.maxDepth}`, at);
    // Every element takes at least one byte: a count beyond what is left can only be truncation.
    this.need(count * perItem, `a container of ${count} elements`);
  }

  private array(count: number, depth: number, at: number): MsgpackValue[] {
    this.enter(count, 1, depth, at);
    const out: MsgpackValue[] = [];
    for (let i = 0; i < count; i++) out.push(this.value(depth + 1));
    return out;
  }

  private map(count: number, depth: number, at: number): MsgpackMap {
    this.enter(count, 2, depth, at);
    const out: MsgpackMap = new Map();
    for (let i = 0; i < count; i++) {
      const keyAt = this.offset;
      const key = this.value(depth + 1);
      let name: string;
      if (key instanceof Uint8Array) name = Buffer.from(key).toString("utf8");
      else if (typeof key === "number" || typeof key === "bigint") name = String(key);
      else throw this.malformed("map key is neither a string nor a number", keyAt);
      out.set(name, this.value(depth + 1));
    }
    return out;
  }
}
