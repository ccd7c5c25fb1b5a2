import type { YumError } from "@beskar-yum/errors";
import { isStringType, mainTagInfo, RpmType, rpmTypeSizes, Tag, typeName } from "./tags.js";

export type HeaderKind = "signature" | "main";

/** Magic (8 bytes incl. reserved) + index length + data length. */
export const HEADER_INTRO_SIZE = 16;
export const ENTRY_SIZE = 16;
const REGION_TRAILER_SIZE = 16;
const MAX_ARRAY_COUNT = 0x000fffff;

const regionTags: Record<HeaderKind, number> = { signature: Tag.HEADERSIGNATURES, main: Tag.HEADERIMMUTABLE };

export interface HeaderEntry {
  tag: number;
  type: number;
  /** Offset in the data store. */
  offset: number;
  count: number;
  /** Position in the index, for messages. */
  index: number;
}

/** What the structure checks need to know about a header being parsed. */
export interface HeaderLayout {
  kind: HeaderKind;
  /** Absolute offset of the header magic. */
  start: number;
  /** Absolute offset of the data store. */
  dataStart: number;
  data: Uint8Array;
  bad(message: string, details?: Record<string, unknown>): YumError;
  tagName(tag: number): string;
}

export function readU32(bytes: Uint8Array, at: number): number {
  return ((bytes[at]! << 24) | (bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!) >>> 0;
}

export function readI32(bytes: Uint8Array, at: number): number {
  return (bytes[at]! << 24) | (bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!;
}

/** rpm's `hdrblobVerifyRegion`; returns the region data length when there is a region. */
export function verifyRegion(h: HeaderLayout, list: HeaderEntry[]): number | undefined {
  const first = list[0];
  const regionTag = regionTags[h.kind];
  if (!first || first.tag !== regionTag) return undefined;
  const dl = h.data.length;
  const where = { tag: first.tag, offset: h.start + HEADER_INTRO_SIZE };
  if (first.type !== RpmType.BIN || first.count !== REGION_TRAILER_SIZE) {
    throw h.bad(
      `region tag ${first.tag}: type ${typeName(first.type)} count ${first.count}, expected BIN count ${REGION_TRAILER_SIZE}`,
      where,
    );
  }
  if (first.offset < 0 || first.offset + REGION_TRAILER_SIZE > dl) {
    throw h.bad(
      `region tag ${first.tag}: trailer offset ${first.offset} out of range (data length ${dl})`,
      where,
    );
  }
  let trailerTag = readU32(h.data, first.offset);
  const trailerType = readU32(h.data, first.offset + 4);
  const trailerOffset = -readI32(h.data, first.offset + 8);
  const trailerCount = readU32(h.data, first.offset + 12);
  if (h.kind === "signature" && trailerTag === Tag.HEADERIMAGE) trailerTag = Tag.HEADERSIGNATURES;
  const trailerAt = { tag: first.tag, offset: h.dataStart + first.offset };
  if (trailerTag !== regionTag || trailerType !== RpmType.BIN || trailerCount !== REGION_TRAILER_SIZE) {
    throw h.bad(
      `region trailer at offset ${h.dataStart + first.offset}: tag ${trailerTag} type ${trailerType} count ${trailerCount}, expected tag ${regionTag} type 7 count 16`,
      trailerAt,
    );
  }
  const rdl = first.offset + REGION_TRAILER_SIZE;
  const ril = trailerOffset / ENTRY_SIZE;
  if (trailerOffset % ENTRY_SIZE !== 0 || ril < 0 || ril > list.length) {
    throw h.bad(
      `region trailer at offset ${h.dataStart + first.offset}: region covers ${trailerOffset} index bytes, header has ${list.length} entries`,
      trailerAt,
    );
  }
  // In package files the main header's region must cover the whole header (rpm's exact_size).
  if (h.kind === "main" && (ril !== list.length || rdl !== dl)) {
    throw h.bad(
      `region covers ${ril} entries and ${rdl} data bytes, header has ${list.length} entries and ${dl} data bytes`,
      trailerAt,
    );
  }
  return rdl;
}

/** rpm's `hdrblobVerifyInfo` plus a type check of the tags we know (main header). */
export function verifyEntries(h: HeaderLayout, list: HeaderEntry[], rdl: number | undefined): void {
  const dl = h.data.length;
  let end = 0;
  for (const e of list) {
    const at = h.start + HEADER_INTRO_SIZE + e.index * ENTRY_SIZE;
    const where = { tag: e.tag, offset: at };
    const what = `index entry ${e.index} (offset ${at}, tag ${h.tagName(e.tag)})`;
    if (e.tag < Tag.HEADERI18NTABLE) throw h.bad(`${what}: tag number below 100`, where);
    if (e.type < RpmType.CHAR || e.type > RpmType.I18NSTRING)
      throw h.bad(`${what}: invalid type ${e.type}`, where);
    if (e.count < 1 || e.count > dl) throw h.bad(`${what}: count ${e.count} out of range 1..${dl}`, where);
    const size = rpmTypeSizes[e.type] ?? 0;
    if (size > 1 && e.offset % size !== 0) {
      throw h.bad(`${what}: data offset ${e.offset} not aligned for ${typeName(e.type)}`, where);
    }
    if (e.offset < 0 || e.offset > dl)
      throw h.bad(`${what}: data offset ${e.offset} outside data (${dl} bytes)`, where);
    if (end > e.offset)
      throw h.bad(`${what}: data at offset ${e.offset} overlaps the previous entry (ends at ${end})`, where);
    if (e.type !== RpmType.BIN && e.count > MAX_ARRAY_COUNT)
      throw h.bad(`${what}: count ${e.count} too large`, where);
    if (h.kind === "main") {
      const info = mainTagInfo.get(e.tag);
      if (info && info.type !== e.type && !(isStringType(info.type) && isStringType(e.type))) {
        throw h.bad(`${what}: type ${typeName(e.type)}, expected ${typeName(info.type)}`, where);
      }
    }
    const len = dataLength(h, e);
    if (len <= 0 || e.offset + len > dl) {
      throw h.bad(
        `${what}: ${e.count} ${typeName(e.type)} value(s) at data offset ${e.offset} run past the end of the data (${dl} bytes)`,
        where,
      );
    }
    end = e.offset + len;
    if (rdl !== undefined && end > rdl - REGION_TRAILER_SIZE && e.offset < rdl) {
      throw h.bad(`${what}: data overlaps the region trailer`, where);
    }
  }
}

/** Bytes used by an entry's data, or -1 when it does not fit (rpm's `dataLength`). */
function dataLength(h: HeaderLayout, e: HeaderEntry): number {
  const dl = h.data.length;
  if (e.type === RpmType.STRING || e.type === RpmType.STRING_ARRAY || e.type === RpmType.I18NSTRING) {
    if (e.type === RpmType.STRING && e.count !== 1) return -1;
    let pos = e.offset;
    for (let i = 0; i < e.count; i++) {
      const nul = h.data.indexOf(0, pos);
      if (nul < 0) return -1;
      pos = nul + 1;
    }
    return pos - e.offset;
  }
  const size = rpmTypeSizes[e.type] ?? 0;
  const len = size * e.count;
  return e.offset + len > dl ? -1 : len;
}
