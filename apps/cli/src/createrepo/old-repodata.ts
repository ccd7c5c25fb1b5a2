import { YumError } from "@beskar-yum/errors";
import {
  type GzipMember,
  type MetadataKind,
  type PrimaryFragmentInfo,
  parseRepomd,
  pkgidFragments,
  type Repomd,
  readGzipMembers,
  visitPrimaryFragments,
} from "@beskar-yum/repodata";
import type { OldMetadataFiles } from "./old-metadata-files.js";

/** One metadata file of the previous generation, uncompressed. */
interface OpenDocument {
  path: string;
  /** The content in pieces: one per gzip member when the file is indexed, else one. */
  pieces: Buffer[];
  /** The stored members, when indexed (parallel to `pieces`). */
  members?: GzipMember[];
}

function openDocument(kind: MetadataKind, repomd: Repomd, old: OldMetadataFiles, dir: string): OpenDocument {
  const record = repomd.records.find((r) => r.type === kind);
  if (!record) throw new YumError("REPODATA_INVALID", `${old.repomdPath}: no <data type="${kind}">`);
  const failed = old.errors.get(record.location);
  if (failed !== undefined) throw new YumError("REPODATA_INVALID", `${dir}/${record.location}: ${failed}`);
  const file = old.files.get(record.location);
  if (record.locationBase !== undefined || file === undefined) {
    throw new YumError(
      "REPODATA_INVALID",
      `${old.repomdPath}: ${kind} is not in repodata/: ${record.location}`,
    );
  }
  const path = `${dir}/${record.location}`;
  const members = path.endsWith(".gz") ? readGzipMembers(file.bytes) : undefined;
  if (members) {
    // The members' contents, as views of the whole content inflated in one go.
    const pieces: Buffer[] = [];
    let at = 0;
    for (const m of members) {
      pieces.push(file.content.subarray(at, at + m.size));
      at += m.size;
    }
    if (at === file.content.length) return { path, pieces, members };
  }
  return { path, pieces: [file.content] };
}

/**
 * The previous repodata as `--update` needs it: every package's key fields in flat tables,
 * fragments found only when asked for, and — when the files are our indexed gzip with the
 * same segments in all three — whole members that can be copied. A package is referred to by
 * its index `i` in primary.xml order.
 */
export class OldRepodata {
  readonly byHref = new Map<string, number>();
  private readonly pkgids: string[] = [];
  private readonly types: string[] = [];
  private readonly sizes: number[] = [];
  private readonly times: number[] = [];
  private readonly based = new Set<number>();
  /** Primary fragments: which piece, and where in it. */
  private readonly pieceOf: number[] = [];
  private readonly starts: number[] = [];
  private readonly ends: number[] = [];
  /** First package index of each primary piece, plus the total at the end. */
  private readonly pieceStart: number[] = [];
  /** Per other kind: fragments by package index, filled piece by piece when asked for. */
  private readonly others: Record<"filelists" | "other", (Buffer | undefined)[]> = {
    filelists: [],
    other: [],
  };
  private readonly scanned: Record<"filelists" | "other", Set<number>> = {
    filelists: new Set(),
    other: new Set(),
  };
  private readonly byPkgid: Partial<Record<"filelists" | "other", Map<string, Buffer>>> = {};
  /** True when all three files are indexed with matching members: segment i of each holds the same packages. */
  readonly aligned: boolean;

  constructor(
    readonly repomd: Repomd,
    private readonly docs: Record<MetadataKind, OpenDocument>,
  ) {
    const primary = docs.primary;
    primary.pieces.forEach((piece, p) => {
      this.pieceStart.push(this.pkgids.length);
      const visit = (start: number, end: number, info: PrimaryFragmentInfo) => {
        const i = this.pkgids.length;
        this.pkgids.push(info.pkgid);
        this.types.push(info.checksumType);
        this.sizes.push(info.fileSize);
        this.times.push(info.fileTime);
        if (info.base !== undefined) this.based.add(i);
        this.pieceOf.push(p);
        this.starts.push(start);
        this.ends.push(end);
        if (!this.byHref.has(info.href)) this.byHref.set(info.href, i);
      };
      visitPrimaryFragments(piece, visit, primary.path);
    });
    this.pieceStart.push(this.pkgids.length);
    const members = [docs.primary.members, docs.filelists.members, docs.other.members];
    this.aligned =
      members.every((m) => m !== undefined && m.length === primary.pieces.length) &&
      primary.pieces.every((_, p) => {
        const count = this.pieceStart[p + 1]! - this.pieceStart[p]!;
        return members.every((m) => m![p]!.count === count);
      });
  }

  get count(): number {
    return this.pkgids.length;
  }

  pkgid(i: number): string {
    return this.pkgids[i]!;
  }

  /** Whether i's metadata is still right for a file of this size and mtime, checksummed so. */
  isCurrent(i: number, size: number, mtime: number, checksumType: string): boolean {
    return (
      this.sizes[i] === size &&
      this.times[i] === mtime &&
      this.types[i] === checksumType &&
      !this.based.has(i)
    );
  }

  /** Length of i's primary fragment (segments are cut by primary size). */
  primaryLength(i: number): number {
    return this.ends[i]! - this.starts[i]!;
  }

  /** i's fragment of `kind`, a view of the old content. */
  fragment(kind: MetadataKind, i: number): Buffer {
    if (kind === "primary")
      return this.docs.primary.pieces[this.pieceOf[i]!]!.subarray(this.starts[i]!, this.ends[i]!);
    const piece = this.pieceOf[i]!;
    if (this.aligned && !this.scanned[kind].has(piece)) this.scanAlignedPiece(kind, piece);
    const found = this.others[kind][i] ?? this.pkgidMap(kind).get(this.pkgids[i]!);
    if (!found) {
      throw new YumError("REPODATA_INVALID", `${this.docs[kind].path}: no package ${this.pkgids[i]}`);
    }
    return found;
  }

  /** The indexed member `piece` of `kind` in its place, with the package range it covers. */
  segment(i: number): { piece: number; first: number; end: number } | undefined {
    if (!this.aligned) return undefined;
    const piece = this.pieceOf[i]!;
    return { piece, first: this.pieceStart[piece]!, end: this.pieceStart[piece + 1]! };
  }

  /** The stored member and content of `piece` of `kind` (only when `aligned`). */
  storedSegment(kind: MetadataKind, piece: number): { content: Buffer; bytes: Buffer } {
    const doc = this.docs[kind];
    return { content: doc.pieces[piece]!, bytes: doc.members![piece]!.bytes };
  }

  /** Positional: the k-th package of member `piece` of filelists/other is the k-th of primary's, pkgids checked. */
  private scanAlignedPiece(kind: "filelists" | "other", piece: number): void {
    this.scanned[kind].add(piece);
    const first = this.pieceStart[piece]!;
    const found = pkgidFragments(this.docs[kind].pieces[piece]!, this.docs[kind].path);
    found.forEach((f, k) => {
      if (this.pkgids[first + k] === f.pkgid) this.others[kind][first + k] = f.bytes;
    });
  }

  private pkgidMap(kind: "filelists" | "other"): Map<string, Buffer> {
    let map = this.byPkgid[kind];
    if (!map) {
      map = new Map();
      for (const piece of this.docs[kind].pieces) {
        for (const f of pkgidFragments(piece, this.docs[kind].path)) map.set(f.pkgid, f.bytes);
      }
      this.byPkgid[kind] = map;
    }
    return map;
  }
}

/**
 * Parses the previous repodata read by `readOldMetadataFiles` (repomd.xml, and primary,
 * filelists and other decompressed): primary is read package by package, filelists and
 * other only where a fragment is asked for. Throws a
 * YumError (REPODATA_INVALID, or the I/O error) when something is missing or malformed.
 */
export function loadOldRepodata(dir: string, old: OldMetadataFiles): OldRepodata {
  const repomd = parseRepomd(old.repomd);
  const open = (kind: MetadataKind) => openDocument(kind, repomd, old, dir);
  return new OldRepodata(repomd, {
    primary: open("primary"),
    filelists: open("filelists"),
    other: open("other"),
  });
}
