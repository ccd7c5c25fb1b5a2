import { hexExcerpt, PluginSdkError } from "./errors.js";

/**
 * The primitives of Go's `encoding/gob` stream (src/encoding/gob/doc.go): unsigned integers (one byte
 * below 128, otherwise the negated byte count then big-endian bytes), signed integers (zigzag-like: the
 * low bit says "complemented"), and length-prefixed strings.
 */

/** Appends gob primitives to a growing byte list. */
export class GobWriter {
  private readonly bytes: number[] = [];

  uint(value: number | bigint): this {
    let v = BigInt(value);
    if (v < 0n || v > 0xffff_ffff_ffff_ffffn) throw new RangeError(`gob uint out of range: ${value}`);
    if (v < 128n) {
      this.bytes.push(Number(v));
      return this;
    }
    const be: number[] = [];
    while (v > 0n) {
      be.unshift(Number(v & 0xffn));
      v >>= 8n;
    }
    this.bytes.push(256 - be.length, ...be);
    return this;
  }

  int(value: number): this {
    const v = BigInt(value);
    return this.uint(v < 0n ? ((-v - 1n) << 1n) | 1n : v << 1n);
  }

  string(value: string): this {
    return this.raw(Buffer.from(value, "utf8"));
  }

  raw(value: Uint8Array): this {
    this.uint(value.length);
    for (const b of value) this.bytes.push(b);
    return this;
  }

  get length(): number {
    return this.bytes.length;
  }

  toBuffer(): Buffer {
    return Buffer.from(this.bytes);
  }
}

/** Reads gob primitives from `bytes[start, end)`; every overrun is a typed `GOB_TRUNCATED` error. */
export class GobReader {
  offset: number;

  constructor(
    private readonly bytes: Uint8Array,
    start = 0,
    readonly end = bytes.length,
    /** What is being read, for error messages ("BeskarMeta", "type definition"...). */
    private readonly what = "gob stream",
  ) {
    this.offset = start;
  }

  get remaining(): number {
    return this.end - this.offset;
  }

  /** Reads an unsigned integer as a bigint (gob uints are up to 64 bits). */
  uintBig(): bigint {
    const at = this.offset;
    const first = this.byte();
    if (first < 0x80) return BigInt(first);
    const count = 256 - first;
    if (count > 8) {
      throw this.error(
        "GOB_MALFORMED",
        `invalid uint length byte 0x${first.toString(16)} (at most 8 bytes)`,
        at,
      );
    }
    if (this.remaining < count) {
      throw this.error(
        "GOB_TRUNCATED",
        `a ${count}-byte uint needs ${count} bytes, ${this.remaining} left`,
        at,
      );
    }
    let v = 0n;
    for (let i = 0; i < count; i++) v = (v << 8n) | BigInt(this.bytes[this.offset++]!);
    return v;
  }

  /** Reads an unsigned integer that must be at most `max` (a JS-safe bound). */
  uint(max: number, field: string): number {
    const at = this.offset;
    const v = this.uintBig();
    if (v > BigInt(max)) {
      throw this.error("GOB_OUT_OF_RANGE", `${field} = ${v} does not fit (maximum ${max})`, at);
    }
    return Number(v);
  }

  /** Reads a signed integer (type ids, field deltas are uints). */
  int(field: string): number {
    const at = this.offset;
    const u = this.uintBig();
    const v = u & 1n ? -(u >> 1n) - 1n : u >> 1n;
    if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) {
      throw this.error("GOB_OUT_OF_RANGE", `${field} = ${v} is out of range`, at);
    }
    return Number(v);
  }

  /** Reads a length-prefixed byte string (Go `string` or `[]byte`). */
  rawBytes(field: string): Uint8Array {
    const at = this.offset;
    const length = this.uint(Number.MAX_SAFE_INTEGER, `length of ${field}`);
    if (length > this.remaining) {
      throw this.error("GOB_TRUNCATED", `${field} declares ${length} bytes, ${this.remaining} left`, at);
    }
    const out = this.bytes.subarray(this.offset, this.offset + length);
    this.offset += length;
    return out;
  }

  string(field: string): string {
    const at = this.offset;
    const raw = this.rawBytes(field);
    try {
      return new TextDecoder("utf-8", { fatal: true }).decode(raw);
    } catch {
      throw this.error("GOB_MALFORMED", `${field} is not valid UTF-8`, at);
    }
  }

  /** Reads one raw byte. */
  byte(): number {
    if (this.offset >= this.end) {
      throw this.error("GOB_TRUNCATED", "unexpected end of data", this.offset);
    }
    return this.bytes[this.offset++]!;
  }

  error(
    code: "GOB_TRUNCATED" | "GOB_MALFORMED" | "GOB_UNSUPPORTED" | "GOB_OUT_OF_RANGE",
    message: string,
    at = this.offset,
  ) {
    return new PluginSdkError(
      code,
      `${this.what}: ${message} (offset ${at}, bytes ${hexExcerpt(this.bytes, at)})`,
      { offset: at },
    );
  }
}
