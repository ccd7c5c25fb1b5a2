import type { YumError } from "@beskar-yum/errors";
import {
  ENTRY_SIZE,
  HEADER_INTRO_SIZE,
  type HeaderEntry,
  type HeaderKind,
  type HeaderLayout,
  readI32,
  readU32,
  verifyEntries,
  verifyRegion,
} from "./header-structure.js";
import { hex, type ParseContext, rpmError } from "./parse-context.js";
import { describeTag, isStringType, RpmType, rpmTypeSizes, typeName } from "./tags.js";

export type { HeaderKind } from "./header-structure.js";
export { HEADER_INTRO_SIZE } from "./header-structure.js";

const HEADER_MAGIC = 0x8eade801;

/** rpm's limits (`hdrblobVerifyLengths`): the signature header is small, the main header < 256 MiB. */
const limits: Record<HeaderKind, { maxEntries: number; maxData: number }> = {
  signature: { maxEntries: 32, maxData: 64 * 1024 * 1024 },
  main: { maxEntries: 0xffff, maxData: 0x0fffffff },
};

export type { HeaderEntry } from "./header-structure.js";

export interface HeaderSpan {
  /** Total bytes of the header structure: intro + index + data (no padding). */
  length: number;
  entryCount: number;
  dataLength: number;
}

function label(kind: HeaderKind): string {
  return kind === "main" ? "main header" : "signature header";
}

/**
 * Reads the 16-byte intro of a header at `offset` and returns how long the header is. Checks the
 * magic and rpm's size limits, so the result is safe to allocate.
 */
export function headerSpan(
  bytes: Uint8Array,
  offset: number,
  kind: HeaderKind,
  ctx: ParseContext,
): HeaderSpan {
  const available = bytes.length - offset;
  if (available >= 4) {
    const magic = readU32(bytes, offset);
    if (magic !== HEADER_MAGIC) {
      throw rpmError(
        "RPM_BAD_MAGIC",
        ctx,
        `${label(kind)} magic at offset ${offset} is ${hex(bytes.subarray(offset, offset + 4))}, expected 8eade801`,
        { offset },
      );
    }
  }
  if (available < HEADER_INTRO_SIZE) {
    throw rpmError(
      "RPM_TRUNCATED",
      ctx,
      `truncated RPM: ${label(kind)} at offset ${offset} needs a ${HEADER_INTRO_SIZE}-byte intro, only ${Math.max(available, 0)} bytes available`,
      { offset },
    );
  }
  const entryCount = readU32(bytes, offset + 8);
  const dataLength = readU32(bytes, offset + 12);
  const { maxEntries, maxData } = limits[kind];
  if (entryCount > maxEntries) {
    throw rpmError(
      "RPM_BAD_HEADER",
      ctx,
      `${label(kind)} at offset ${offset}: index count ${entryCount} (at offset ${offset + 8}) exceeds the limit of ${maxEntries}`,
      { offset: offset + 8 },
    );
  }
  if (dataLength > maxData) {
    throw rpmError(
      "RPM_BAD_HEADER",
      ctx,
      `${label(kind)} at offset ${offset}: data length ${dataLength} (at offset ${offset + 12}) exceeds the limit of ${maxData}`,
      { offset: offset + 12 },
    );
  }
  return { length: HEADER_INTRO_SIZE + entryCount * ENTRY_SIZE + dataLength, entryCount, dataLength };
}

/**
 * One parsed header (signature or main). Construction validates the structure the way rpm's
 * `hdrblobInit` does (region tag and trailer, entry types, counts, alignment, ranges, no
 * overlaps, NUL-terminated strings), so every accessor stays inside the data store.
 * Strings come back as "binary strings": one UTF-16 code unit per byte (latin1 mapping), so that
 * byte-exact comparisons and splitting match what C code does; decode them for display.
 */
export class RpmHeader {
  readonly kind: HeaderKind;
  /** Absolute offset of the header magic in the file. */
  readonly start: number;
  /** Absolute offset just past the data store. */
  readonly end: number;
  /** The header bytes from magic to the end of the data store (what header digests cover). */
  readonly bytes: Uint8Array;
  readonly hasRegion: boolean;
  private readonly data: Uint8Array;
  private readonly dataStart: number;
  private readonly entries = new Map<number, HeaderEntry>();
  private readonly ctx: ParseContext;

  constructor(bytes: Uint8Array, offset: number, kind: HeaderKind, ctx: ParseContext) {
    const span = headerSpan(bytes, offset, kind, ctx);
    const available = bytes.length - offset;
    if (available < span.length) {
      throw rpmError(
        "RPM_TRUNCATED",
        ctx,
        `truncated RPM: ${label(kind)} at offset ${offset} needs ${span.length} bytes (${span.entryCount} index entries, ${span.dataLength} data bytes), only ${available} available`,
        { offset, expected: span.length, actual: available },
      );
    }
    this.kind = kind;
    this.ctx = ctx;
    this.start = offset;
    this.end = offset + span.length;
    this.bytes = bytes.subarray(offset, this.end);
    this.dataStart = offset + HEADER_INTRO_SIZE + span.entryCount * ENTRY_SIZE;
    this.data = bytes.subarray(this.dataStart, this.end);
    const list: HeaderEntry[] = [];
    for (let i = 0; i < span.entryCount; i++) {
      const at = offset + HEADER_INTRO_SIZE + i * ENTRY_SIZE;
      list.push({
        tag: readU32(bytes, at),
        type: readU32(bytes, at + 4),
        offset: readI32(bytes, at + 8),
        count: readU32(bytes, at + 12),
        index: i,
      });
    }
    const layout: HeaderLayout = {
      kind,
      start: offset,
      dataStart: this.dataStart,
      data: this.data,
      bad: (message, details) => this.bad(message, details),
      tagName: (tag) => this.tagName(tag),
    };
    const rdl = verifyRegion(layout, list);
    this.hasRegion = rdl !== undefined;
    verifyEntries(layout, this.hasRegion ? list.slice(1) : list, rdl);
    for (const e of list) if (!this.entries.has(e.tag)) this.entries.set(e.tag, e);
  }

  has(tag: number): boolean {
    return this.entries.has(tag);
  }

  entry(tag: number): HeaderEntry | undefined {
    return this.entries.get(tag);
  }

  /** First string of a string-class tag (rpm's `headerGetString`), or undefined when absent. */
  string(tag: number): string | undefined {
    const e = this.entries.get(tag);
    if (!e) return undefined;
    this.expectString(e);
    return this.readStrings(e, 1)[0];
  }

  /** All strings of a string-class tag; a STRING tag gives one element. */
  strings(tag: number): string[] | undefined {
    const e = this.entries.get(tag);
    if (!e) return undefined;
    this.expectString(e);
    return this.readStrings(e, e.type === RpmType.STRING ? 1 : e.count);
  }

  /** Values of an integer tag (INT8/16/32 unsigned, INT64 as a Number). */
  numbers(tag: number): number[] | undefined {
    const e = this.entries.get(tag);
    if (!e) return undefined;
    const size = rpmTypeSizes[e.type] ?? 0;
    const out: number[] = new Array(e.count);
    const base = this.dataStart + e.offset;
    const buf = this.data;
    const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    switch (e.type) {
      case RpmType.CHAR:
      case RpmType.INT8:
        for (let i = 0; i < e.count; i++) out[i] = view.getUint8(e.offset + i);
        break;
      case RpmType.INT16:
        for (let i = 0; i < e.count; i++) out[i] = view.getUint16(e.offset + i * size);
        break;
      case RpmType.INT32:
        for (let i = 0; i < e.count; i++) out[i] = view.getUint32(e.offset + i * size);
        break;
      case RpmType.INT64:
        for (let i = 0; i < e.count; i++) out[i] = Number(view.getBigUint64(e.offset + i * size));
        break;
      default:
        throw this.typeError(e, "an integer type", base);
    }
    return out;
  }

  /** First value of an integer tag (rpm's `headerGetNumber`). */
  number(tag: number): number | undefined {
    const values = this.numbers(tag);
    return values?.[0];
  }

  /** Raw bytes of a BIN tag. */
  binary(tag: number): Uint8Array | undefined {
    const e = this.entries.get(tag);
    if (!e) return undefined;
    if (e.type !== RpmType.BIN) throw this.typeError(e, "BIN", this.dataStart + e.offset);
    return this.data.subarray(e.offset, e.offset + e.count);
  }

  /** Absolute file offset of a tag's data, for messages. */
  dataOffset(tag: number): number | undefined {
    const e = this.entries.get(tag);
    return e ? this.dataStart + e.offset : undefined;
  }

  tagName(tag: number): string {
    return describeTag(tag, this.kind);
  }

  bad(message: string, details: Record<string, unknown> = {}): YumError {
    return rpmError(
      "RPM_BAD_HEADER",
      this.ctx,
      `${label(this.kind)} at offset ${this.start}: ${message}`,
      details,
    );
  }

  private expectString(e: HeaderEntry): void {
    if (!isStringType(e.type)) throw this.typeError(e, "a string type", this.dataStart + e.offset);
  }

  private typeError(e: HeaderEntry, expected: string, at: number): YumError {
    return this.bad(`tag ${this.tagName(e.tag)} has type ${typeName(e.type)}, expected ${expected}`, {
      tag: e.tag,
      offset: at,
    });
  }

  private readStrings(e: HeaderEntry, count: number): string[] {
    const out: string[] = [];
    let pos = e.offset;
    for (let i = 0; i < count; i++) {
      const nul = this.data.indexOf(0, pos);
      // verifyEntries guarantees termination; stay defensive anyway.
      if (nul < 0) throw this.bad(`tag ${this.tagName(e.tag)}: unterminated string`, { tag: e.tag });
      out.push(latin1(this.data, pos, nul));
      pos = nul + 1;
    }
    return out;
  }
}

function latin1(bytes: Uint8Array, from: number, to: number): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset + from, to - from).toString("latin1");
}
