import { createHash } from "node:crypto";
import { pipeline, Readable } from "node:stream";
import { constants, createGzip } from "node:zlib";
import {
  type PackageTransform,
  type RepomdRecord,
  type RewriteSummary,
  rewritePrimary,
} from "@beskar-yum/repodata";
import type { FsBlobStore, IngestedBlob } from "@beskar-yum/storage";

export interface RewrittenPrimaryOptions {
  /** Upstream's primary.xml, decompressed (and checked: `openMetadata`); opened once per pass. */
  open: () => AsyncIterable<Uint8Array>;
  transform: PackageTransform;
  blobs: FsBlobStore;
  /** `<timestamp>` of the record: upstream's, so that the stale check compares like with like. */
  timestamp: number;
  signal?: AbortSignal | undefined;
}

/** The rewritten primary.xml.gz, stored as a blob (durable), and its repomd record. */
export interface RewrittenPrimary {
  record: RepomdRecord;
  digest: string;
  summary: RewriteSummary;
}

/**
 * Rewrites upstream's primary.xml through `transform` (`rewritePrimary`), gzips it and stores it as
 * the blob `<sha256>-primary.xml.gz` names, with checksum, open-checksum (sha256), size and
 * open-size for repomd.xml. The output is a function of the input alone (gzip at a fixed level,
 * mtime 0, no file name): a re-sync of an unchanged upstream stores the same blob and republishes
 * nothing. When packages are dropped, upstream's `packages=` count is wrong, and it comes first: the
 * document is rewritten again with the count (two passes, memory still bounded).
 */
export async function rewrittenPrimary(options: RewrittenPrimaryOptions): Promise<RewrittenPrimary> {
  let pass = await rewriteOnce(options, undefined);
  if (pass.summary.dropped > 0 && pass.summary.declared !== undefined) {
    await options.blobs.discard(pass.blob);
    pass = await rewriteOnce(options, pass.summary.kept);
  }
  const { blob, openDigest, openSize, summary } = pass;
  await options.blobs.commit(blob);
  const name = `${blob.digest}-primary.xml.gz`;
  return {
    digest: blob.digest,
    summary,
    record: {
      type: "primary",
      checksum: { type: "sha256", value: blob.digest },
      openChecksum: { type: "sha256", value: openDigest },
      location: `repodata/${name}`,
      timestamp: options.timestamp,
      size: blob.size,
      openSize,
    },
  };
}

interface Pass {
  blob: IngestedBlob;
  openDigest: string;
  openSize: number;
  summary: RewriteSummary;
}

/** One pass: upstream's document in, the rewritten one gzipped into a temporary blob. */
async function rewriteOnce(options: RewrittenPrimaryOptions, packages: number | undefined): Promise<Pass> {
  const { output, summary } = rewritePrimary(options.open(), options.transform, {
    ...(packages !== undefined ? { packages } : {}),
  });
  const openHash = createHash("sha256");
  let openSize = 0;
  async function* encoded(): AsyncGenerator<Buffer> {
    for await (const text of output) {
      const bytes = Buffer.from(text, "utf8");
      openHash.update(bytes);
      openSize += bytes.length;
      yield bytes;
    }
  }
  // Errors of the rewrite (REPODATA_INVALID, ...) reach `ingest` through the gzip stream, which pipeline destroys with them.
  const gzip = pipeline(
    Readable.from(encoded()),
    createGzip({ level: constants.Z_DEFAULT_COMPRESSION }),
    () => {},
  );
  const blob = await options.blobs.ingest(gzip, {
    ...(options.signal ? { signal: options.signal } : {}),
  });
  return { blob, openDigest: openHash.digest("hex"), openSize, summary };
}
