import { mkdir, rm } from "node:fs/promises";
import { basename, join } from "node:path";
import {
  metadataFooter,
  metadataHeader,
  metadataKinds,
  parseRepomd,
  type RepomdRecord,
  renderRepomd,
  writeMetadataFile,
} from "@beskar-yum/repodata";
import type { RepomdSigner } from "@beskar-yum/signing";
import {
  type ExtraMetadataRecord,
  FsBlobStore,
  type RepoIndex,
  type RepositoryPaths,
  type RepositoryStorage,
  writeFileAtomic,
} from "@beskar-yum/storage";
import type { RepositoryFront } from "./front-tree.js";
import { collectRepodataGarbage } from "./garbage-collector.js";

export interface PublishOptions {
  fence: number;
  graceSeconds: number;
  /** The server's key: every repomd.xml published here is signed (`repomd.xml.asc`). */
  signer: RepomdSigner;
  signal?: AbortSignal;
  /**
   * Called for every data file before the generation naming it is recorded (`storage.driver:
   * registry`: `RepositoryStorage.share`, so that any node can serve it).
   */
  share?: ((file: { digest: string; size: number; path: string }) => Promise<void>) | undefined;
  /** `http.front_tree`: this repository's part of it, kept in step with each commit (front-tree.ts). */
  front?: RepositoryFront;
}

export interface PublishResult {
  revision: number;
  packages: number;
  seq: number;
  /** Until the generation was recorded (the previous one's garbage is collected afterwards). */
  durationMs: number;
}

async function* framed(
  kind: (typeof metadataKinds)[number],
  count: number,
  fragments: AsyncIterable<string>,
): AsyncIterable<string> {
  yield metadataHeader(kind, count);
  yield* fragments;
  yield metadataFooter(kind);
}

function repomdFiles(repomd: string | undefined): Set<string> {
  if (!repomd) return new Set();
  return new Set(parseRepomd(repomd).records.map((r) => basename(r.location)));
}

/**
 * Writes the next repodata generation. Every data file is stored (under a checksum-prefixed name)
 * before the generation is recorded in the index, which is what `repomd.xml` is served from; so a
 * reader never sees a repomd.xml that names a file that is not there yet.
 */
export async function publishRepodata(
  index: RepoIndex,
  paths: RepositoryPaths,
  options: PublishOptions,
): Promise<PublishResult> {
  const started = performance.now();
  const before = await index.getState();
  const seq = before.appliedSeq;
  const packages = await index.countPackages();
  const timestamp = Math.floor(Date.now() / 1000);

  await mkdir(paths.repodata, { recursive: true });
  const records = [];
  for (const kind of metadataKinds) {
    options.signal?.throwIfAborted();
    records.push(
      await writeMetadataFile({
        dir: paths.repodata,
        kind,
        parts: framed(kind, packages, index.iterateFragments(kind)),
        timestamp,
        signal: options.signal,
      }),
    );
  }
  for (const extra of await index.listExtraMetadata()) {
    options.signal?.throwIfAborted();
    records.push(await placeExtraMetadata(extra, paths));
  }
  for (const record of options.share ? records : []) {
    options.signal?.throwIfAborted();
    const path = join(paths.repodata, basename(record.location));
    await options.share!({ digest: record.checksum.value, size: record.size, path });
  }
  // Revisions only grow, even when two publishes fall in the same second.
  const revision = Math.max(timestamp, before.revision + 1);
  const repomd = renderRepomd({ revision, records });
  // Signed once here, served as stored: never a signature per request.
  const repomdAsc = await options.signer.sign(repomd);
  options.signal?.throwIfAborted();
  const durationMs = Math.round(performance.now() - started);
  await options.front?.retract(index, paths);
  await index.recordPublish(options.fence, {
    seq,
    revision,
    repomd,
    repomdAsc,
    durationMs,
    log: `published revision ${revision}: ${packages} packages, ${records.length - metadataKinds.length} extra metadata files, in ${durationMs} ms`,
  });
  await writeRepomdCopy(paths.repodata, repomd, repomdAsc);
  await options.front?.update(index, paths);
  await collectRepodataGarbage(
    paths.repodata,
    repomdFiles(before.repomd),
    repomdFiles(repomd),
    options.graceSeconds,
  );
  return { revision, packages, seq, durationMs };
}

/** `PublishOptions.share` of a repository: its data files into the registry, with `storage.driver: registry`. */
export function repodataSharer(storage: RepositoryStorage, repository: string): PublishOptions["share"] {
  if (!storage.registry) return undefined;
  return (file) => storage.share(repository, "repodata", file);
}

/**
 * A repository whose served repomd.xml is not signed by the server's current key (published before
 * signing existed, or before a key rotation) is signed again, without a new generation: same
 * repomd.xml, same revision, a new `repomd.xml.asc`. Mirrors are left to their next sync, which
 * knows whether the signature served is upstream's. True when it signed.
 */
export async function resignRepodata(
  index: RepoIndex,
  paths: RepositoryPaths,
  options: PublishOptions,
): Promise<boolean> {
  if (!(await needsSignature(index, options.signer))) return false;
  const state = await index.getState();
  const repomd = state.repomd!;
  const repomdAsc = await options.signer.sign(repomd);
  options.signal?.throwIfAborted();
  await options.front?.retract(index, paths);
  await index.recordPublish(options.fence, {
    seq: state.publishedSeq,
    revision: state.revision,
    repomd,
    repomdAsc,
  });
  await writeRepomdCopy(paths.repodata, repomd, repomdAsc);
  await options.front?.update(index, paths);
  return true;
}

/** A hosted repository whose published repomd.xml is unsigned, or signed by another key than `signer`'s. */
export async function needsSignature(index: RepoIndex, signer: RepomdSigner): Promise<boolean> {
  const repository = await index.getRepository();
  if (!repository || repository.properties.mirror) return false;
  const { repomd, repomdAsc } = await index.getState();
  if (!repomd) return false;
  return repomdAsc === undefined || !(await signer.issued(repomdAsc));
}

/**
 * A copy of what is served on disk, for operators and tools (the service serves the index's copy,
 * fenced and transactional): repomd.xml, and its signature when there is one.
 */
export async function writeRepomdCopy(
  repodataDir: string,
  repomd: string,
  asc: string | undefined,
): Promise<void> {
  await writeFileAtomic(`${repodataDir}/repomd.xml`, repomd);
  if (asc === undefined) await rm(`${repodataDir}/repomd.xml.asc`, { force: true });
  else await writeFileAtomic(`${repodataDir}/repomd.xml.asc`, asc);
}

/** Puts an extra metadata file into repodata/ under its checksum-prefixed name. */
async function placeExtraMetadata(extra: ExtraMetadataRecord, paths: RepositoryPaths): Promise<RepomdRecord> {
  const name = `${extra.digest}-${extra.fileName}`;
  await new FsBlobStore(paths.blobs).placeAt(extra.digest, `${paths.repodata}/${name}`);
  return {
    type: extra.dataType,
    checksum: { type: "sha256", value: extra.digest },
    ...(extra.openDigest ? { openChecksum: { type: "sha256", value: extra.openDigest } } : {}),
    location: `repodata/${name}`,
    timestamp: extra.timestamp,
    size: extra.size,
    ...(extra.openSize !== undefined ? { openSize: extra.openSize } : {}),
  };
}
