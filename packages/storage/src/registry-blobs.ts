import { createReadStream } from "node:fs";
import { pipeline, type Readable, Transform } from "node:stream";
import { YumError } from "@beskar-yum/errors";
import type { FsBlobStore } from "./blob-store.js";

/** The OCI repositories of Beskar's layout a blob lives in: `<repository>/packages` or `/repodata`. */
export type SharedKind = "packages" | "repodata";

/**
 * What `storage.driver: registry` needs of an OCI registry client (`RegistryClient` of
 * `@beskar-yum/oci` has it): named here so that storage does not depend on the client's package.
 * Digests are `sha256:<hex>`.
 */
export interface SharedBlobClient {
  hasBlob(repository: string, digest: string): Promise<boolean>;
  pushBlob(
    repository: string,
    blob: { digest: string; size: number; source: () => Readable | Buffer },
  ): Promise<boolean>;
  openBlob(repository: string, blob: { digest: string; size?: number | undefined }): Promise<Readable>;
}

/** A blob of a repository: its sha256 (hex) and, when known, its size. */
export interface SharedBlob {
  digest: string;
  size?: number | undefined;
}

/**
 * `storage.driver: registry`: the OCI registry is the primary store of package blobs and repodata
 * data files (Beskar's layout repositories), and a node's datadir only a cache of it. So that the
 * index, shared by every node, never names a blob another node cannot get, a blob is `put` before
 * the index transaction that refers to it; a node missing one `fetch`es it (verified against its
 * digest) into its own blob store, one download per blob however many ask at once.
 */
export class RegistryBlobs {
  private readonly fetches = new Map<string, Promise<void>>();
  /** Bytes this process read from the registry (into its cache, or streamed to a client), and how many blobs (metrics). */
  fetchedBytes = 0;
  fetchedBlobs = 0;
  /** Blobs this process sent to the registry (those it had already are not sent). */
  sentBlobs = 0;

  constructor(private readonly client: SharedBlobClient) {}

  private static ociRepository(repository: string, kind: SharedKind): string {
    return `${repository}/${kind}`;
  }

  /** Makes the registry hold the blob stored at `path` (HEAD first: one it has is not sent again). */
  async put(repository: string, kind: SharedKind, blob: { digest: string; size: number; path: string }) {
    const sent = await this.client.pushBlob(RegistryBlobs.ociRepository(repository, kind), {
      digest: `sha256:${blob.digest}`,
      size: blob.size,
      source: () => createReadStream(blob.path),
    });
    if (sent) this.sentBlobs++;
  }

  has(repository: string, kind: SharedKind, digest: string): Promise<boolean> {
    return this.client.hasBlob(RegistryBlobs.ociRepository(repository, kind), `sha256:${digest}`);
  }

  /** The blob's bytes, streamed from the registry (counted); the stream errors when they do not match. */
  async open(repository: string, kind: SharedKind, blob: SharedBlob): Promise<Readable> {
    const body = await this.client.openBlob(RegistryBlobs.ociRepository(repository, kind), {
      digest: `sha256:${blob.digest}`,
      size: blob.size,
    });
    this.fetchedBlobs++;
    const counted = new Transform({
      transform: (chunk: Buffer, _encoding, done) => {
        this.fetchedBytes += chunk.length;
        done(null, chunk);
      },
    });
    // pipeline destroys `counted` with the error when the registry's stream fails (or mismatches).
    pipeline(body, counted, () => {});
    return counted;
  }

  /** Stores the blob into `blobs` from the registry, unless it is there; concurrent callers share one download. */
  async fetch(repository: string, kind: SharedKind, blobs: FsBlobStore, blob: SharedBlob): Promise<void> {
    if (await blobs.has(blob.digest)) return;
    const key = `${blobs.root}\0${blob.digest}`;
    let running = this.fetches.get(key);
    if (!running) {
      running = this.download(repository, kind, blobs, blob).finally(() => this.fetches.delete(key));
      this.fetches.set(key, running);
    }
    await running;
  }

  private async download(repository: string, kind: SharedKind, blobs: FsBlobStore, blob: SharedBlob) {
    const body = await this.open(repository, kind, blob);
    const ingested = await blobs.ingest(body, blob.size !== undefined ? { maxBytes: blob.size } : {});
    if (ingested.digest !== blob.digest) {
      await blobs.discard(ingested);
      throw new YumError(
        "REGISTRY_DIGEST_MISMATCH",
        `${repository}/${kind}: blob sha256:${blob.digest} read from the registry hashes to sha256:${ingested.digest}`,
      );
    }
    await blobs.commit(ingested);
  }
}
