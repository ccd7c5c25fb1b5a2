import { mkdir } from "node:fs/promises";
import { basename } from "node:path";
import {
  metadataFooter,
  metadataHeader,
  metadataKinds,
  parseRepomd,
  type RepomdRecord,
  renderRepomd,
  writeMetadataFile,
} from "@beskar-yum/repodata";
import {
  type ExtraMetadataRecord,
  FsBlobStore,
  type RepoIndex,
  type RepositoryPaths,
  writeFileAtomic,
} from "@beskar-yum/storage";
import { collectRepodataGarbage } from "./garbage-collector.js";

export interface PublishOptions {
  fence: number;
  graceSeconds: number;
  signal?: AbortSignal;
}

export interface PublishResult {
  revision: number;
  packages: number;
  seq: number;
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
  // Revisions only grow, even when two publishes fall in the same second.
  const revision = Math.max(timestamp, before.revision + 1);
  const repomd = renderRepomd({ revision, records });
  options.signal?.throwIfAborted();
  await index.recordPublish(options.fence, { seq, revision, repomd });
  // A copy on disk for operators and tools; the service serves the index's copy (fenced, transactional).
  await writeFileAtomic(`${paths.repodata}/repomd.xml`, repomd);
  await collectRepodataGarbage(
    paths.repodata,
    repomdFiles(before.repomd),
    repomdFiles(repomd),
    options.graceSeconds,
  );
  return { revision, packages, seq };
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
