import { mkdir } from "node:fs/promises";
import { basename, join } from "node:path";
import { isYumError, YumError } from "@beskar-yum/errors";
import {
  artifactLayer,
  EXTRA_CONFIG_MEDIATYPE,
  EXTRA_LAYER_MEDIATYPE_PREFIX,
  type OciManifest,
  PACKAGE_CONFIG_MEDIATYPE,
  PACKAGE_LAYER_MEDIATYPE,
  parseOciManifest,
  REPOMD_ASC_LAYER_MEDIATYPE,
  REPOMD_LAYER_MEDIATYPE,
  REPOMD_TAG,
  type RegistryClient,
  sha256Digest,
  TITLE_ANNOTATION,
} from "@beskar-yum/oci";
import { type PrimaryRecord, parseRepomd, readPrimary } from "@beskar-yum/repodata";
import { readRpmAt } from "@beskar-yum/rpm";
import type {
  ExtraMetadataRecord,
  FsBlobStore,
  PackageRecord,
  RegistryManifestRecord,
  RepositoryPaths,
  RepositoryProperties,
} from "@beskar-yum/storage";
import { runBounded } from "@beskar-yum/storage";
import { buildPackageRecord } from "./event-applier.js";
import { inspectExtraFile, sniffCompression } from "./extra-metadata.js";
import type { ProcessorLog } from "./repository-processor.js";

export type RestoreClient = Pick<RegistryClient, "getManifest" | "listTags" | "openBlob" | "readBlobRange">;

export interface RegistryRestoreOptions {
  client: RestoreClient;
  log: ProcessorLog;
  signal?: AbortSignal;
  now?: () => number;
}

/** What a repository's registry layout holds, read into index rows (nothing written to the index yet). */
export interface RegistryContent {
  packages: PackageRecord[];
  extras: ExtraMetadataRecord[];
  /** The manifests read, recorded so that the replica knows what the registry has. */
  manifests: RegistryManifestRecord[];
  /** A mirror's repomd.xml (and signature) as the registry holds it; its data files are in repodata/. */
  repomd?: { text: string; asc: string | undefined; revision: number };
  /** Manifests that could not be restored, and why (logged; the rest is restored). */
  problems: string[];
  /** Bytes read of package blobs (headers only) against their total size. */
  bytesRead: number;
  packageBytes: number;
}

/** Package manifests read at a time: each costs a manifest GET and one or two ranged blob reads. */
const restoreConcurrency = 16;

/**
 * The first ranged read of a package: the lead and signature header (a few KiB) and the start of
 * the main header, often all of it; a larger main header (long file lists, changelogs) takes one
 * more read of exactly what is missing. 64 KiB, as local files are read, would read most small
 * packages whole.
 */
const firstRangeBytes = 16 * 1024;

/**
 * Reads a repository back from its registry layout (BESKAR.md §3.1, what `replicateToRegistry` and
 * Beskar's Go plugin push): every package manifest's RPM headers by ranged reads (never a whole
 * package: packages stay in the registry and are fetched on their first request), parsed and
 * rendered as an upload's are; extra metadata manifests (small: downloaded into the blob store);
 * for a mirror, the files `repodata:repomdxml` lists, into repodata/.
 *
 * A hosted package's `<time file>` is its upload time, which no manifest records: it is read from
 * the registry's primary.xml, so that the republished primary/filelists/other are byte-identical.
 */
export async function readRegistryContent(
  repository: string,
  properties: RepositoryProperties,
  blobs: FsBlobStore,
  paths: RepositoryPaths,
  options: RegistryRestoreOptions,
): Promise<RegistryContent> {
  const content: RegistryContent = {
    packages: [],
    extras: [],
    manifests: [],
    problems: [],
    bytesRead: 0,
    packageBytes: 0,
  };
  const repodata = await readRepomdManifest(repository, options);
  if (repodata) content.manifests.push(repodata.record);
  const published = repodata ? await readPublishedPrimary(repository, repodata, options) : new Map();
  if (properties.mirror && repodata) {
    content.repomd = await placeMirrorRepodata(repository, repodata, blobs, paths, options);
  }
  await readPackages(repository, properties, published, blobs, content, options);
  await readExtras(repository, repodata, blobs, content, options);
  return content;
}

/** The `repodata:repomdxml` manifest, its repomd.xml text and its records; undefined when there is none. */
async function readRepomdManifest(repository: string, options: RegistryRestoreOptions) {
  const manifest = await fetchManifest(`${repository}/repodata`, REPOMD_TAG, options);
  if (!manifest) return undefined;
  const layer = manifest.oci.layers.find((l) => l.mediaType === REPOMD_LAYER_MEDIATYPE);
  if (!layer)
    throw new YumError("REGISTRY_REJECTED", `${repository}/repodata:${REPOMD_TAG} has no repomd.xml layer`);
  const text = (await readBlob(`${repository}/repodata`, layer, options)).toString("utf8");
  const ascLayer = manifest.oci.layers.find((l) => l.mediaType === REPOMD_ASC_LAYER_MEDIATYPE);
  const asc = ascLayer
    ? (await readBlob(`${repository}/repodata`, ascLayer, options)).toString("utf8")
    : undefined;
  return {
    oci: manifest.oci,
    text,
    asc,
    repomd: parseRepomd(text),
    record: {
      kind: "repodata",
      tag: REPOMD_TAG,
      layerDigest: layer.digest,
      manifestDigest: manifest.digest,
    } satisfies RegistryManifestRecord,
  };
}

type RepomdManifest = NonNullable<Awaited<ReturnType<typeof readRepomdManifest>>>;

/** The registry's primary.xml, by pkgid and by file name: what a manifest does not say (upload time, a mirror's href). */
async function readPublishedPrimary(
  repository: string,
  repodata: RepomdManifest,
  options: RegistryRestoreOptions,
): Promise<Map<string, PrimaryRecord>> {
  const byKey = new Map<string, PrimaryRecord>();
  const record = repodata.repomd.records.find((r) => r.type === "primary");
  if (record?.checksum.type !== "sha256") return byKey;
  const stream = await options.client.openBlob(
    `${repository}/repodata`,
    { digest: `sha256:${record.checksum.value}`, size: record.size },
    options,
  );
  for await (const pkg of readPrimary(stream, { name: basename(record.location) })) {
    byKey.set(pkg.pkgid, pkg);
    const fileName = basename(pkg.location.href);
    if (!byKey.has(fileName)) byKey.set(fileName, pkg);
  }
  return byKey;
}

/** Reads every package manifest's RPM headers (ranged reads) into index rows. */
async function readPackages(
  repository: string,
  properties: RepositoryProperties,
  published: Map<string, PrimaryRecord>,
  blobs: FsBlobStore,
  content: RegistryContent,
  options: RegistryRestoreOptions,
): Promise<void> {
  const oci = `${repository}/packages`;
  const now = (options.now ?? (() => Math.floor(Date.now() / 1000)))();
  const tags = await options.client.listTags(oci, options);
  await runBounded(tags, restoreConcurrency, (tag) =>
    readManifestOrSkip(oci, tag, content, options, async () => {
      const manifest = await fetchManifest(oci, tag, options);
      if (!manifest) return; // deleted meanwhile
      if (manifest.oci.config?.mediaType !== PACKAGE_CONFIG_MEDIATYPE) {
        throw new Error(`config mediatype ${manifest.oci.config?.mediaType} is not a package's`);
      }
      const layer = artifactLayer(manifest.oci, PACKAGE_LAYER_MEDIATYPE);
      const readAt = async (length: number, position: number) => {
        const bytes = await options.client.readBlobRange(oci, layer.digest, position, length, options);
        content.bytesRead += bytes.length;
        return bytes;
      };
      const parsed = await readRpmAt(readAt, layer.size, {
        fileName: layer.title,
        firstRead: firstRangeBytes,
      });
      const id = layer.digest.slice("sha256:".length);
      const listed = properties.mirror ? published.get(layer.title) : published.get(id);
      const record = await buildPackageRecord(
        blobs,
        {
          digest: id,
          uploadTime: listed?.time.file ?? now,
          verified: false,
          ...(properties.gpg_key ? { gpgKey: properties.gpg_key } : {}),
        },
        properties.mirror ? { href: listed?.location.href ?? `Packages/${layer.title}` } : undefined,
        parsed,
      );
      if (record.tag !== tag) throw new Error(`its tag is not the md5 of ${record.fileName} (${record.tag})`);
      if (properties.mirror && listed) record.upstreamChecksum = `${listed.checksumType}:${listed.pkgid}`;
      content.packages.push(record);
      content.packageBytes += layer.size;
      content.manifests.push({
        kind: "packages",
        tag,
        layerDigest: layer.digest,
        manifestDigest: manifest.digest,
      });
    }),
  );
}

/**
 * Reads one manifest with `read`. The registry failing is the restore failing (retried); anything
 * else wrong with this one manifest is recorded in `content.problems` (logged) and it is skipped.
 */
async function readManifestOrSkip(
  oci: string,
  tag: string,
  content: RegistryContent,
  options: RegistryRestoreOptions,
  read: () => Promise<void>,
): Promise<void> {
  options.signal?.throwIfAborted();
  try {
    await read();
  } catch (err) {
    if (options.signal?.aborted || isYumError(err, "REGISTRY_UNAVAILABLE")) throw err;
    content.problems.push(`${oci}:${tag}: ${(err as Error).message}`);
  }
}

/** User extra metadata (`repodata:<type>`), downloaded into the blob store: publish places it. */
async function readExtras(
  repository: string,
  repodata: RepomdManifest | undefined,
  blobs: FsBlobStore,
  content: RegistryContent,
  options: RegistryRestoreOptions,
): Promise<void> {
  const oci = `${repository}/repodata`;
  const tags = (await options.client.listTags(oci, options)).filter((t) => t !== REPOMD_TAG);
  for (const tag of tags) {
    await readManifestOrSkip(oci, tag, content, options, async () => {
      const manifest = await fetchManifest(oci, tag, options);
      if (!manifest) return;
      if (manifest.oci.config?.mediaType !== EXTRA_CONFIG_MEDIATYPE) {
        throw new Error(`config mediatype ${manifest.oci.config?.mediaType} is not extra metadata's`);
      }
      const layer = artifactLayer(manifest.oci, EXTRA_LAYER_MEDIATYPE_PREFIX);
      const dataType = layer.mediaType.slice(EXTRA_LAYER_MEDIATYPE_PREFIX.length);
      const digest = await storeBlob(oci, layer, blobs, options);
      const path = blobs.pathOf(digest);
      const open = await inspectExtraFile(path, layer.title, await sniffCompression(path), { dataType });
      // The timestamp repomd.xml gave it, so that a republished repomd.xml says the same.
      const listed = repodata?.repomd.records.find((r) => r.type === dataType);
      content.extras.push({
        dataType,
        fileName: layer.title,
        digest,
        size: layer.size,
        ...open,
        timestamp: listed?.timestamp ?? Math.floor(Date.now() / 1000),
      });
      content.manifests.push({
        kind: "repodata",
        tag,
        layerDigest: layer.digest,
        manifestDigest: manifest.digest,
      });
    });
  }
}

/** A mirror serves upstream's repomd.xml verbatim: its data files go into repodata/ under their titles. */
async function placeMirrorRepodata(
  repository: string,
  repodata: RepomdManifest,
  blobs: FsBlobStore,
  paths: RepositoryPaths,
  options: RegistryRestoreOptions,
): Promise<RegistryContent["repomd"]> {
  for (const layer of repodata.oci.layers) {
    if (!layer.mediaType.startsWith(EXTRA_LAYER_MEDIATYPE_PREFIX)) continue;
    const title = layer.annotations?.[TITLE_ANNOTATION];
    if (!title)
      throw new YumError(
        "REGISTRY_REJECTED",
        `${repository}/repodata:${REPOMD_TAG}: layer ${layer.digest} has no title`,
      );
    const digest = await storeBlob(`${repository}/repodata`, layer, blobs, options);
    await mkdir(paths.repodata, { recursive: true });
    await blobs.placeAt(digest, join(paths.repodata, basename(title)));
    // The blob store was the way in (verified, atomic); nothing references the blob itself.
    await blobs.delete(digest);
  }
  const revision = Number(repodata.repomd.revision);
  return {
    text: repodata.text,
    asc: repodata.asc,
    revision: Number.isSafeInteger(revision) ? revision : Math.floor(Date.now() / 1000),
  };
}

/** A manifest by tag, parsed; undefined when the registry has none under that tag. */
async function fetchManifest(
  ociRepository: string,
  tag: string,
  options: RegistryRestoreOptions,
): Promise<{ oci: OciManifest; digest: string } | undefined> {
  try {
    const fetched = await options.client.getManifest(ociRepository, tag, options);
    return { oci: parseOciManifest(fetched.bytes), digest: fetched.digest ?? sha256Digest(fetched.bytes) };
  } catch (err) {
    if (isYumError(err, "REGISTRY_NOT_FOUND")) return undefined;
    throw err;
  }
}

/** A small blob (repomd.xml, its signature) in memory, verified against its digest. */
async function readBlob(
  ociRepository: string,
  layer: { digest: string; size: number },
  options: RegistryRestoreOptions,
): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of await options.client.openBlob(ociRepository, layer, options))
    chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** A blob streamed into the blob store (verified while it streams); returns its sha256 hex. */
async function storeBlob(
  ociRepository: string,
  layer: { digest: string; size: number },
  blobs: FsBlobStore,
  options: RegistryRestoreOptions,
): Promise<string> {
  const digest = layer.digest.slice("sha256:".length);
  if (await blobs.has(digest)) return digest;
  const body = await options.client.openBlob(ociRepository, layer, options);
  const blob = await blobs.ingest(body, { maxBytes: layer.size });
  if (blob.digest !== digest) {
    await blobs.discard(blob);
    throw new YumError(
      "REGISTRY_DIGEST_MISMATCH",
      `${ociRepository}@${layer.digest}: the blob has sha256 ${blob.digest}`,
    );
  }
  await blobs.commit(blob);
  return digest;
}
