import { createHash } from "node:crypto";
import { RpmType } from "../tags.js";

/** A header entry to write; numbers go out as the given integer type. */
export interface CraftEntry {
  tag: number;
  type: number;
  value: string | string[] | number[] | bigint[] | Uint8Array;
}

const align: Record<number, number> = { [RpmType.INT16]: 2, [RpmType.INT32]: 4, [RpmType.INT64]: 8 };

function encodeValue(e: CraftEntry): { bytes: Buffer; count: number } {
  const v = e.value;
  switch (e.type) {
    case RpmType.STRING:
      return { bytes: Buffer.concat([Buffer.from(v as string, "latin1"), Buffer.alloc(1)]), count: 1 };
    case RpmType.STRING_ARRAY:
    case RpmType.I18NSTRING: {
      const list = typeof v === "string" ? [v] : (v as string[]);
      return {
        bytes: Buffer.concat(list.flatMap((s) => [Buffer.from(s, "latin1"), Buffer.alloc(1)])),
        count: list.length,
      };
    }
    case RpmType.BIN:
      return { bytes: Buffer.from(v as Uint8Array), count: (v as Uint8Array).length };
    case RpmType.CHAR:
    case RpmType.INT8:
      return { bytes: Buffer.from(v as number[]), count: (v as number[]).length };
    case RpmType.INT16: {
      const list = v as number[];
      const b = Buffer.alloc(list.length * 2);
      for (const [i, n] of list.entries()) b.writeUInt16BE(n, i * 2);
      return { bytes: b, count: list.length };
    }
    case RpmType.INT32: {
      const list = v as number[];
      const b = Buffer.alloc(list.length * 4);
      for (const [i, n] of list.entries()) b.writeUInt32BE(n >>> 0, i * 4);
      return { bytes: b, count: list.length };
    }
    case RpmType.INT64: {
      const list = v as bigint[];
      const b = Buffer.alloc(list.length * 8);
      for (const [i, n] of list.entries()) b.writeBigUInt64BE(n, i * 8);
      return { bytes: b, count: list.length };
    }
    default:
      throw new Error(`cannot write type ${e.type}`);
  }
}

/** Writes a header blob (magic..data) with a region tag and trailer, entries sorted by tag. */
export function writeHeader(entries: CraftEntry[], regionTag: number): Buffer {
  const sorted = [...entries].sort((a, b) => a.tag - b.tag);
  const il = sorted.length + 1;
  const index: Buffer[] = [];
  const data: Buffer[] = [];
  let dl = 0;
  const pushIndex = (tag: number, type: number, offset: number, count: number) => {
    const b = Buffer.alloc(16);
    b.writeUInt32BE(tag, 0);
    b.writeUInt32BE(type, 4);
    b.writeInt32BE(offset, 8);
    b.writeUInt32BE(count, 12);
    index.push(b);
  };
  for (const e of sorted) {
    const a = align[e.type] ?? 1;
    const pad = (a - (dl % a)) % a;
    if (pad) {
      data.push(Buffer.alloc(pad));
      dl += pad;
    }
    const { bytes, count } = encodeValue(e);
    pushIndex(e.tag, e.type, dl, count);
    data.push(bytes);
    dl += bytes.length;
  }
  const trailer = Buffer.alloc(16);
  trailer.writeUInt32BE(regionTag, 0);
  trailer.writeUInt32BE(RpmType.BIN, 4);
  trailer.writeInt32BE(-(il * 16), 8);
  trailer.writeUInt32BE(16, 12);
  const regionOffset = dl;
  data.push(trailer);
  dl += 16;
  const region = Buffer.alloc(16);
  region.writeUInt32BE(regionTag, 0);
  region.writeUInt32BE(RpmType.BIN, 4);
  region.writeInt32BE(regionOffset, 8);
  region.writeUInt32BE(16, 12);
  const intro = Buffer.from([0x8e, 0xad, 0xe8, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
  intro.writeUInt32BE(il, 8);
  intro.writeUInt32BE(dl, 12);
  return Buffer.concat([intro, region, ...index, ...data]);
}

export interface CraftOptions {
  /** Main-header entries. */
  main: CraftEntry[];
  /** Extra signature-header entries (digests and sizes are added unless `bare`). */
  signature?: CraftEntry[];
  /** Bytes after the main header (default: 64 bytes of a fake payload). */
  payload?: Uint8Array;
  /** Lead type: 0 binary, 1 source. */
  leadType?: number;
  /** Leave out SHA1/SHA256/SIZE from the signature header. */
  bare?: boolean;
}

/** Builds a complete RPM file (lead, signature header with digests, main header, payload). */
export function craftRpm(opts: CraftOptions): Buffer {
  const main = writeHeader(opts.main, 63);
  const payload = Buffer.from(opts.payload ?? Buffer.alloc(64, 0x55));
  const sigEntries: CraftEntry[] = [...(opts.signature ?? [])];
  if (!opts.bare) {
    sigEntries.push(
      { tag: 269, type: RpmType.STRING, value: createHash("sha1").update(main).digest("hex") },
      { tag: 273, type: RpmType.STRING, value: createHash("sha256").update(main).digest("hex") },
      { tag: 1000, type: RpmType.INT32, value: [main.length + payload.length] },
    );
  }
  const sig = writeHeader(sigEntries, 62);
  const pad = Buffer.alloc((8 - (sig.length % 8)) % 8);
  const lead = Buffer.alloc(96);
  lead.writeUInt32BE(0xedabeedb, 0);
  lead[4] = 3;
  lead.writeUInt16BE(opts.leadType ?? 0, 6);
  lead.writeUInt16BE(1, 8);
  lead.write("crafted", 10, "latin1");
  lead.writeUInt16BE(1, 76);
  lead.writeUInt16BE(5, 78);
  return Buffer.concat([lead, sig, pad, main, payload]);
}

const S = RpmType.STRING;
const SA = RpmType.STRING_ARRAY;
const I18N = RpmType.I18NSTRING;
const I32 = RpmType.INT32;

/** The minimal main header of a binary package; `extra` entries override same-tag defaults. */
export function basicMain(name: string, extra: CraftEntry[] = []): CraftEntry[] {
  const base: CraftEntry[] = [
    { tag: 100, type: SA, value: ["C"] },
    { tag: 1000, type: S, value: name },
    { tag: 1001, type: S, value: "1.0" },
    { tag: 1002, type: S, value: "1" },
    { tag: 1004, type: I18N, value: [`${name} summary`] },
    { tag: 1005, type: I18N, value: [`${name} description`] },
    { tag: 1006, type: I32, value: [1700000000] },
    { tag: 1007, type: S, value: "crafthost" },
    { tag: 1009, type: I32, value: [123] },
    { tag: 1014, type: S, value: "MIT" },
    { tag: 1016, type: I18N, value: ["Unspecified"] },
    { tag: 1021, type: S, value: "linux" },
    { tag: 1022, type: S, value: "noarch" },
    { tag: 1044, type: S, value: `${name}-1.0-1.src.rpm` },
    { tag: 1047, type: SA, value: [name] },
    { tag: 1112, type: I32, value: [8] },
    { tag: 1113, type: SA, value: ["1.0-1"] },
  ];
  const overridden = new Set(extra.map((e) => e.tag));
  return [...base.filter((e) => !overridden.has(e.tag)), ...extra];
}

/** Offsets of the two headers of a well-formed RPM. */
export function headerOffsets(rpm: Uint8Array): { sigStart: number; mainStart: number; mainEnd: number } {
  const view = Buffer.from(rpm.buffer, rpm.byteOffset, rpm.byteLength);
  const sigLength = 16 + view.readUInt32BE(96 + 8) * 16 + view.readUInt32BE(96 + 12);
  const mainStart = 96 + sigLength + ((8 - (sigLength % 8)) % 8);
  const mainEnd = mainStart + 16 + view.readUInt32BE(mainStart + 8) * 16 + view.readUInt32BE(mainStart + 12);
  return { sigStart: 96, mainStart, mainEnd };
}

/** Overwrites one field (0 tag, 1 type, 2 offset, 3 count) of the index entry for `tag` in the header at `start`. */
export function patchIndex(
  rpm: Buffer,
  start: number,
  tag: number,
  field: 0 | 1 | 2 | 3,
  value: number,
): Buffer {
  const out = Buffer.from(rpm);
  const il = out.readUInt32BE(start + 8);
  for (let i = 0; i < il; i++) {
    const at = start + 16 + i * 16;
    if (out.readUInt32BE(at) === tag) {
      out.writeInt32BE(value | 0, at + field * 4);
      return out;
    }
  }
  throw new Error(`tag ${tag} not in header at ${start}`);
}

/** The same package with a signature header holding only SIZE: no digests guard the main header. */
export function withoutDigests(rpm: Uint8Array): Buffer {
  const { mainStart, mainEnd } = headerOffsets(rpm);
  const main = rpm.subarray(mainStart, mainEnd);
  const payload = rpm.subarray(mainEnd);
  const sig = writeHeader([{ tag: 1000, type: RpmType.INT32, value: [main.length + payload.length] }], 62);
  const pad = Buffer.alloc((8 - (sig.length % 8)) % 8);
  return Buffer.concat([rpm.subarray(0, 96), sig, pad, main, payload]);
}
