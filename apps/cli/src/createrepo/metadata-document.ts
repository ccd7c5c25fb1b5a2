import { createHash, type Hash } from "node:crypto";
import { open } from "node:fs/promises";
import { join } from "node:path";
import {
  compressMember,
  type MetadataCompressor,
  type MetadataKind,
  metadataFooter,
  metadataHeader,
  type RepomdRecord,
  writeMetadataFile,
} from "@beskar-yum/repodata";
import type { ChecksumType } from "./createrepo-options.js";

export interface DocumentStats {
  /** Package segments written. */
  segments: number;
  /** Of which copied compressed from the previous file. */
  reused: number;
}

/** A metadata document assembled segment by segment, in order. */
export interface MetadataDocument {
  /**
   * The next `count` packages' fragments, joined. `stored` is the same content already
   * compressed (a member of the previous file), used instead of compressing it again.
   */
  addSegment(content: Buffer, count: number, stored?: Buffer): void;
  /** Writes `<checksum>-<kind>.xml.<ext>` into `dir` and returns its repomd record. */
  write(dir: string, packageCount: number): Promise<RepomdRecord>;
  readonly stats: DocumentStats;
}

export interface DocumentOptions {
  kind: MetadataKind;
  checksum: ChecksumType;
  /** Record `<timestamp>`. */
  timestamp: number;
  /**
   * The package count `write` will be given, when known from the start: the header is then
   * known too, so the open checksum is computed as segments arrive and their content is not
   * kept (a run that stops at the first bad RPM knows it; `--skip-invalid` does not).
   */
  expectedCount?: number;
}

/**
 * gz as indexed gzip members (see @beskar-yum/repodata `gzipMember`): header, package
 * segments, footer, each its own member. A segment is compressed as soon as it is added, on
 * libuv's thread pool, while parsing goes on.
 */
export class IndexedGzipDocument implements MetadataDocument {
  readonly stats: DocumentStats = { segments: 0, reused: 0 };
  private readonly segments: { content?: Buffer; member: Promise<Buffer> }[] = [];
  /** With `expectedCount`: the open checksum so far (header and the segments added). */
  private readonly running?: { hash: Hash; size: number };

  constructor(private readonly opts: DocumentOptions) {
    if (opts.expectedCount !== undefined) {
      const header = Buffer.from(metadataHeader(opts.kind, opts.expectedCount), "utf8");
      this.running = { hash: createHash(opts.checksum).update(header), size: header.length };
    }
  }

  addSegment(content: Buffer, count: number, stored?: Buffer): void {
    this.stats.segments++;
    if (stored) this.stats.reused++;
    const member = stored ? Promise.resolve(stored) : compressMember(content, { count }).then((m) => m.bytes);
    // Handled now so a failed compression cannot go unhandled before write() awaits it.
    member.catch(() => {});
    if (this.running) {
      this.running.hash.update(content);
      this.running.size += content.length;
      this.segments.push({ member });
    } else {
      this.segments.push({ content, member });
    }
  }

  async write(dir: string, packageCount: number): Promise<RepomdRecord> {
    const { kind, checksum } = this.opts;
    const header = Buffer.from(metadataHeader(kind, packageCount), "utf8");
    const footer = Buffer.from(metadataFooter(kind), "utf8");
    const [headerMember, footerMember, ...members] = await Promise.all([
      compressMember(header).then((m) => m.bytes),
      compressMember(footer).then((m) => m.bytes),
      ...this.segments.map((s) => s.member),
    ]);
    let openHash: Hash;
    let openSize: number;
    if (this.running) {
      if (packageCount !== this.opts.expectedCount) {
        throw new Error(`${kind}: ${packageCount} packages written, ${this.opts.expectedCount} expected`);
      }
      ({ hash: openHash, size: openSize } = this.running);
    } else {
      openHash = createHash(checksum).update(header);
      openSize = header.length;
      for (const s of this.segments) {
        openHash.update(s.content!);
        openSize += s.content!.length;
      }
    }
    openHash.update(footer);
    openSize += footer.length;
    const parts = [headerMember!, ...members, footerMember!];
    const fileHash = createHash(checksum);
    let size = 0;
    for (const p of parts) {
      fileHash.update(p);
      size += p.length;
    }
    const sum = fileHash.digest("hex");
    const name = `${sum}-${kind}.xml.gz`;
    await writeFileSynced(join(dir, name), Buffer.concat(parts, size));
    return {
      type: kind,
      checksum: { type: checksum, value: sum },
      openChecksum: { type: checksum, value: openHash.digest("hex") },
      location: `repodata/${name}`,
      timestamp: this.opts.timestamp,
      size,
      openSize,
    };
  }
}

/** xz or zstd: the whole document through one compressor stream (`writeMetadataFile`). */
export class StreamedDocument implements MetadataDocument {
  readonly stats: DocumentStats = { segments: 0, reused: 0 };
  private readonly contents: Buffer[] = [];

  constructor(
    private readonly opts: DocumentOptions,
    private readonly compressor: MetadataCompressor,
  ) {}

  addSegment(content: Buffer): void {
    this.stats.segments++;
    this.contents.push(content);
  }

  async write(dir: string, packageCount: number): Promise<RepomdRecord> {
    const { kind, checksum, timestamp } = this.opts;
    const contents = this.contents;
    function* parts(): Generator<string | Buffer> {
      yield metadataHeader(kind, packageCount);
      yield* contents;
      yield metadataFooter(kind);
    }
    return writeMetadataFile({
      dir,
      kind,
      parts: parts(),
      checksumType: checksum,
      compress: this.compressor,
      timestamp,
    });
  }
}

async function writeFileSynced(path: string, bytes: Buffer): Promise<void> {
  const handle = await open(path, "wx", 0o644);
  try {
    await handle.writeFile(bytes);
    await handle.sync();
  } finally {
    await handle.close();
  }
}
