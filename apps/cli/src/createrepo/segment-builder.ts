import type { MetadataKind } from "@beskar-yum/repodata";
import type { MetadataDocument } from "./metadata-document.js";
import type { OldRepodata } from "./old-repodata.js";
import type { ParsedPackage } from "./parse-package.js";

/** A package of the new generation: parsed in this run, or index `old` in the previous repodata. */
export type SegmentItem = ParsedPackage | { old: number };

const kinds: MetadataKind[] = ["primary", "filelists", "other"];

/**
 * One in 128 packages ends a segment, chosen by its pkgid: segment boundaries depend on the
 * packages around them only, so adding or removing a package changes one segment and every
 * other one is found unchanged in the previous file (content-defined chunking).
 */
export function endsSegment(pkgid: string): boolean {
  return (Number.parseInt(pkgid.slice(-2), 16) & 0x7f) === 0;
}

/** A segment also ends once its primary part holds this much, whatever the pkgids say. */
export const MAX_SEGMENT_BYTES = 1024 * 1024;

/**
 * Cuts the package sequence into segments, the same cut for primary, filelists and other, and
 * hands each to the three documents: a segment that is exactly a member of the previous
 * (aligned, indexed) files, same packages in the same order, goes in as the stored members;
 * any other is joined from its packages' fragments.
 */
export class SegmentBuilder {
  private pending: SegmentItem[] = [];
  private pendingBytes = 0;
  /** Packages handed to the documents so far. */
  count = 0;

  constructor(
    private readonly docs: Record<MetadataKind, MetadataDocument>,
    private readonly old?: OldRepodata,
  ) {}

  push(item: SegmentItem): void {
    const old = this.old;
    const isOld = "old" in item;
    const pkgid = isOld ? old!.pkgid(item.old) : item.pkgid;
    this.pending.push(item);
    this.pendingBytes += isOld ? old!.primaryLength(item.old) : item.primary.length;
    if (endsSegment(pkgid) || this.pendingBytes >= MAX_SEGMENT_BYTES) this.flush();
  }

  /** Ends the current segment (call once more after the last package). */
  flush(): void {
    const items = this.pending;
    if (items.length === 0) return;
    this.pending = [];
    this.pendingBytes = 0;
    this.count += items.length;
    const piece = this.unchangedPiece(items);
    for (const kind of kinds) {
      if (piece !== undefined) {
        const { content, bytes } = this.old!.storedSegment(kind, piece);
        this.docs[kind].addSegment(content, items.length, bytes);
      } else {
        const parts = items.map((it) => ("old" in it ? this.old!.fragment(kind, it.old) : it[kind]));
        this.docs[kind].addSegment(joinAdjacent(parts), items.length);
      }
    }
  }

  /** The previous member these items are, exactly, if any. */
  private unchangedPiece(items: SegmentItem[]): number | undefined {
    const first = items[0]!;
    if (!this.old || !("old" in first)) return undefined;
    const segment = this.old.segment(first.old);
    if (!segment || segment.first !== first.old || segment.end - segment.first !== items.length)
      return undefined;
    for (let k = 1; k < items.length; k++) {
      const it = items[k]!;
      if (!("old" in it) || it.old !== first.old + k) return undefined;
    }
    return segment.piece;
  }
}

/**
 * `parts` joined: when they lie back to back in one buffer (fragments of an old document kept
 * in order) the result is a view of that memory, else a copy.
 */
export function joinAdjacent(parts: Buffer[]): Buffer {
  const first = parts[0]!;
  let end = first.byteOffset + first.length;
  let length = first.length;
  let adjacent = true;
  for (let i = 1; i < parts.length; i++) {
    const p = parts[i]!;
    if (adjacent && (p.buffer !== first.buffer || p.byteOffset !== end)) adjacent = false;
    end += p.length;
    length += p.length;
  }
  return adjacent ? Buffer.from(first.buffer, first.byteOffset, length) : Buffer.concat(parts, length);
}
