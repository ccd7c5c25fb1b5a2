import { createReadStream, existsSync } from "node:fs";
import { basename, join } from "node:path";
import { isYumError, YumError } from "@beskar-yum/errors";
import {
  type BlobRef,
  type BlobSource,
  EMPTY_BLOB_DIGEST,
  extraMetadataManifest,
  manifestDigest,
  type OciManifest,
  packageManifest,
  REPOMD_TAG,
  type RegistryClient,
  type RepodataFile,
  repomdManifest,
  serializeManifest,
  sha256Digest,
} from "@beskar-yum/oci";
import { parseRepomd } from "@beskar-yum/repodata";
import type {
  PackageCursor,
  PackageSummary,
  RegistryBlobs,
  RegistryKind,
  RepoIndex,
  RepositoryPaths,
  RepositoryStorage,
} from "@beskar-yum/storage";
import { FsBlobStore, runBounded } from "@beskar-yum/storage";
import type { ProcessorLog } from "./repository-processor.js";

export interface RegistryReplicaOptions {
  client: Pick<RegistryClient, "pushBlob" | "putManifest" | "deleteManifest" | "getManifest">;
  log: ProcessorLog;
  signal?: AbortSignal;
  /** `storage.driver: registry`: packages this node has not got are in the registry all the same. */
  sharedBlobs?: Pick<RegistryBlobs, "has"> | undefined;
}

/** A manifest the registry should hold: its tag, content layer and the blobs to upload first. */
interface Wanted {
  tag: string;
  layerDigest: string;
  manifest: OciManifest;
  blobs: { ref: BlobRef; source: BlobSource }[];
}

/**
 * Brings the OCI registry replica of `repository` in line with its index (Beskar's layout, BESKAR.md
 * §3.1): a manifest per package in `<repository>/packages` (tag md5 of the file name), user extra
 * metadata and `repomdxml` in `<repository>/repodata`, removed or replaced manifests deleted by digest.
 *
 * It diffs the index against the manifests recorded in the index (`RegistryRecords`), so a round that
 * fails midway loses nothing: what was pushed is recorded, the rest stays pending and the next round
 * (the next publish, or the reconciler) pushes it. Blobs the registry has are not sent again.
 * Mirrors are replicated like hosted repositories (upstream's repomd.xml and data files as they are served).
 * @returns false when something failed (logged and recorded as the replica's error)
 */
export async function replicateToRegistry(
  repository: string,
  index: RepoIndex,
  paths: RepositoryPaths,
  options: RegistryReplicaOptions,
): Promise<boolean> {
  const state = await index.registry.state();
  if (state.generation <= state.replicated) return true;
  const repo = await index.getRepository();
  if (!repo || repo.deleting) {
    await index.registry.recordReplication(state.generation, "");
    return true;
  }
  // Before anything is pushed: a registry copy this index did not come from is never replaced.
  try {
    await assertRestored(repository, index, paths, options);
  } catch (err) {
    if (options.signal?.aborted) throw err;
    const message = (err as Error).message;
    await index.registry.recordReplication(state.generation, message);
    // A refusal (REPO_NOT_RESTORED) is this node's to fix; anything else (the registry is down) is
    // retried as a failed push is.
    const refused = isYumError(err) && err.code === "REPO_NOT_RESTORED";
    options.log.error(
      { repository, err: message },
      refused
        ? "registry replica: nothing pushed"
        : "registry replica: push failed, retried on the next round",
    );
    return false;
  }
  const blobs = new FsBlobStore(paths.blobs);
  const errors: string[] = [];
  // A registry that is down (or times out) ends the round at once: the lock is not held for a
  // timeout per manifest, and the next round starts over.
  let unavailable = false;
  const attempt = async (what: string, step: () => Promise<void>) => {
    options.signal?.throwIfAborted();
    if (unavailable) return;
    try {
      await step();
    } catch (err) {
      if (options.signal?.aborted) throw err;
      errors.push(`${what}: ${(err as Error).message}`);
      if (isYumError(err, "REGISTRY_UNAVAILABLE")) unavailable = true;
    }
  };

  // Packages a page at a time, without their XML: a replica round of a repository of any size holds
  // one page of rows (and the tags seen) in memory, not every row with its fragments.
  const keep = new Set<string>();
  const packages = ociKind(repository, index, attempt, options);
  for (
    let after: PackageCursor | undefined, page = await index.listPackageSummaries(replicaPage);
    page.length > 0;
  ) {
    const wanted: Wanted[] = [];
    for (const pkg of page) {
      // An on-demand mirror's packages not fetched yet have no blob: pushed after a later sync finds them stored.
      // Beskar's layout has one manifest per tag (md5 of the file name): of a mirror's packages of one
      // file name in several folders (each served here at its href), the first by href is replicated.
      if (keep.has(pkg.tag)) continue;
      if (!existsSync(blobs.pathOf(pkg.id))) {
        // A restored package whose blob is still only in the registry (fetched on its first
        // request): its manifest is the one recorded, and stays.
        if ((await index.registry.get("packages", pkg.tag))?.layerDigest === `sha256:${pkg.id}`)
          keep.add(pkg.tag);
        // storage.driver: registry: stored by another node, so in the registry already (the blob
        // push below finds it there and sends nothing).
        else if (options.sharedBlobs && (await options.sharedBlobs.has(repository, "packages", pkg.id))) {
          keep.add(pkg.tag);
          wanted.push(packageWanted(pkg, blobs));
        }
        continue;
      }
      keep.add(pkg.tag);
      wanted.push(packageWanted(pkg, blobs));
    }
    await packages.push(wanted);
    if (page.length < replicaPage) break;
    const last = page.at(-1)!;
    after = { href: last.href, tag: last.tag };
    page = await index.listPackageSummaries(replicaPage, after);
  }
  await packages.deleteOthers(keep);
  const extras: Wanted[] = (await index.listExtraMetadata()).map((extra) => {
    const ref = { digest: `sha256:${extra.digest}`, size: extra.size };
    return {
      tag: extra.dataType,
      layerDigest: ref.digest,
      manifest: extraMetadataManifest({ ...ref, dataType: extra.dataType, fileName: extra.fileName }),
      blobs: [{ ref, source: () => createReadStream(blobs.pathOf(extra.digest)) }],
    };
  });
  const repomd = await repomdWanted(index, paths);

  const repodata = ociKind(repository, index, attempt, options, "repodata");
  const wantedRepodata = [...extras, ...(repomd ? [repomd] : [])];
  await repodata.push(wantedRepodata);
  await repodata.deleteOthers(new Set(wantedRepodata.map((w) => w.tag)));

  const error = errors.join("; ");
  await index.registry.recordReplication(state.generation, error);
  if (error) {
    options.log.error(
      { repository, failures: errors.length, err: error },
      "registry replica: push failed, retried on the next round",
    );
    return false;
  }
  return true;
}

/**
 * Deletes from the registry the manifests a deleted repository left there (its tombstone, written by
 * `RepositoryService.delete`), then forgets the tombstone. Run under the repository's lock, before
 * any push: manifests the index of a repository created again under that name records stay.
 * @returns false when a delete failed (the tombstone stays, and is tried again on the next round)
 */
export async function deleteTombstonedManifests(
  repository: string,
  storage: RepositoryStorage,
  options: RegistryReplicaOptions,
): Promise<boolean> {
  const tombstone = await storage.registryTombstone(repository);
  if (!tombstone) return true;
  const index = await storage.openIndex(repository);
  const kept = new Set<string>();
  for (const kind of ["packages", "repodata"] as const) {
    for (const r of (await index?.registry.list(kind)) ?? []) kept.add(`${kind}@${r.manifestDigest}`);
  }
  try {
    for (const { kind, manifestDigest } of tombstone.manifests) {
      options.signal?.throwIfAborted();
      if (kept.has(`${kind}@${manifestDigest}`)) continue;
      await options.client.deleteManifest(`${repository}/${kind}`, manifestDigest, options);
    }
  } catch (err) {
    if (options.signal?.aborted) throw err;
    options.log.error(
      { repository, err: (err as Error).message },
      "registry replica: cannot delete the manifests of the deleted repository, retried on the next round",
    );
    return false;
  }
  await storage.removeRegistryTombstone(repository);
  options.log.info(
    { repository, manifests: tombstone.manifests.length },
    "registry replica: manifests of the deleted repository deleted",
  );
  return true;
}

/**
 * Refuses (REPO_NOT_RESTORED) to replicate a repository whose index has no record of the registry's
 * `repodata:repomdxml`, when the registry has one: this node's index did not come from that copy (a
 * lost disk, a node new to the repository, content pushed by Beskar's Go plugin), so its repodata
 * would replace the registry's full one with what this node has seen. `beskar-yum restore` first.
 * A repomd.xml identical to ours is our own push whose recording was lost (a crash in between).
 */
async function assertRestored(
  repository: string,
  index: RepoIndex,
  paths: RepositoryPaths,
  options: RegistryReplicaOptions,
): Promise<void> {
  if (await index.registry.get("repodata", REPOMD_TAG)) return;
  let remote: { digest: string | undefined; bytes: Buffer };
  try {
    remote = await options.client.getManifest(`${repository}/repodata`, REPOMD_TAG, options);
  } catch (err) {
    if (isYumError(err, "REGISTRY_NOT_FOUND")) return;
    throw err;
  }
  const wanted = await repomdWanted(index, paths);
  const remoteDigest = remote.digest ?? sha256Digest(remote.bytes);
  if (wanted && manifestDigest(wanted.manifest) === remoteDigest) {
    await index.registry.put({
      kind: "repodata",
      tag: REPOMD_TAG,
      layerDigest: wanted.layerDigest,
      manifestDigest: remoteDigest,
    });
    return;
  }
  throw new YumError(
    "REPO_NOT_RESTORED",
    `the registry holds repodata of ${repository} (${remoteDigest}) that this node's index does not come from: nothing is pushed over it; restore the repository from the registry first (beskar-yum restore)`,
    { repository },
  );
}

async function repomdWanted(index: RepoIndex, paths: RepositoryPaths): Promise<Wanted | undefined> {
  const { repomd, repomdAsc } = await index.getState();
  if (!repomd) return undefined;
  const repomdBytes = Buffer.from(repomd, "utf8");
  const repomdRef = { digest: sha256Digest(repomdBytes), size: repomdBytes.length };
  const files: (RepodataFile & { path: string })[] = [];
  for (const record of parseRepomd(repomd).records) {
    if (record.checksum.type !== "sha256") continue;
    const fileName = basename(record.location);
    files.push({
      dataType: record.type,
      fileName,
      digest: `sha256:${record.checksum.value}`,
      size: record.size,
      path: join(paths.repodata, fileName),
    });
  }
  const ascBytes = repomdAsc ? Buffer.from(repomdAsc, "utf8") : undefined;
  const ascRef = ascBytes ? { digest: sha256Digest(ascBytes), size: ascBytes.length } : undefined;
  return {
    tag: REPOMD_TAG,
    layerDigest: repomdRef.digest,
    manifest: repomdManifest(repomdRef, files, ascRef),
    blobs: [
      { ref: repomdRef, source: () => repomdBytes },
      ...(ascRef && ascBytes ? [{ ref: ascRef, source: () => ascBytes }] : []),
      ...files.map((f) => ({
        ref: { digest: f.digest, size: f.size },
        source: () => createReadStream(f.path),
      })),
    ],
  };
}

/** The manifest of a stored package, and its blob. */
function packageWanted(pkg: PackageSummary, blobs: FsBlobStore): Wanted {
  return {
    tag: pkg.tag,
    layerDigest: `sha256:${pkg.id}`,
    manifest: packageManifest({
      digest: `sha256:${pkg.id}`,
      size: pkg.fileSize,
      fileName: pkg.fileName,
      arch: pkg.arch,
    }),
    blobs: [
      {
        ref: { digest: `sha256:${pkg.id}`, size: pkg.fileSize },
        source: () => createReadStream(blobs.pathOf(pkg.id)),
      },
    ],
  };
}

/**
 * One OCI repository of the replica (`<repository>/packages` or `/repodata`): `push` sends what
 * differs from the recorded manifests (called once per page of wanted manifests), `deleteOthers`
 * deletes the recorded manifests whose tag is not wanted.
 */
function ociKind(
  repository: string,
  index: RepoIndex,
  attempt: (what: string, step: () => Promise<void>) => Promise<void>,
  options: RegistryReplicaOptions,
  kind: RegistryKind = "packages",
): { push(wanted: Wanted[]): Promise<void>; deleteOthers(keep: Set<string>): Promise<void> } {
  const ociRepository = `${repository}/${kind}`;
  const { client } = options;
  let configPushed = false;
  return {
    async push(wanted) {
      const changed: Wanted[] = [];
      for (const want of wanted) {
        if ((await index.registry.get(kind, want.tag))?.layerDigest !== want.layerDigest) changed.push(want);
      }
      if (changed.length > 0 && !configPushed) {
        // Every manifest's config is the same empty blob: sent once, before them.
        await attempt(`${ociRepository} config blob`, async () => {
          await client.pushBlob(
            ociRepository,
            { digest: EMPTY_BLOB_DIGEST, size: 0, source: () => Buffer.alloc(0) },
            options,
          );
          configPushed = true;
        });
      }
      await runBounded(configPushed ? changed : [], pushConcurrency, async (want) => {
        const current = await index.registry.get(kind, want.tag);
        await attempt(`${ociRepository}:${want.tag}`, async () => {
          for (const blob of want.blobs) {
            await client.pushBlob(ociRepository, { ...blob.ref, source: blob.source }, options);
          }
          const pushed = await client.putManifest(
            ociRepository,
            want.tag,
            serializeManifest(want.manifest),
            undefined,
            options,
          );
          await index.registry.put({
            kind,
            tag: want.tag,
            layerDigest: want.layerDigest,
            manifestDigest: pushed.digest,
          });
          options.log.info(
            { repository: ociRepository, tag: want.tag, digest: pushed.digest },
            "registry replica: manifest pushed",
          );
          if (current && current.manifestDigest !== pushed.digest)
            await client.deleteManifest(ociRepository, current.manifestDigest, options);
        });
      });
    },
    async deleteOthers(keep) {
      // The recorded manifests a page at a time too (a deleted one is behind the cursor already).
      const unwanted = async function* () {
        for (let page = await index.registry.listPage(kind, replicaPage); page.length > 0; ) {
          yield* page.filter((record) => !keep.has(record.tag));
          if (page.length < replicaPage) return;
          page = await index.registry.listPage(kind, replicaPage, page.at(-1)!.tag);
        }
      };
      for await (const record of unwanted()) {
        await attempt(`${ociRepository}@${record.manifestDigest}`, async () => {
          await client.deleteManifest(ociRepository, record.manifestDigest, options);
          await index.registry.remove(kind, record.tag);
          options.log.info(
            { repository: ociRepository, tag: record.tag, digest: record.manifestDigest },
            "registry replica: manifest deleted",
          );
        });
      }
    },
  };
}

/** Package rows read per page. */
const replicaPage = 1000;

/** Manifests pushed at a time: a first push of a large repository is latency-bound, one by one. */
const pushConcurrency = 4;
