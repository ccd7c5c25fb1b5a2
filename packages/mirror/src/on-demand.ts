import type { Readable } from "node:stream";
import { YumError } from "@beskar-yum/errors";
import type { FsBlobStore, PackageRecord } from "@beskar-yum/storage";
import { SharedDownload } from "./shared-download.js";
import { UpstreamClient, type UpstreamClientOptions } from "./upstream-client.js";
import { Verification } from "./verifier.js";

export interface OnDemandOptions {
  /** The mirror URLs of the repository. */
  urls: string[];
  log: (message: string) => void;
  /** Stall timeout (the configured sync timeout). */
  timeoutMs?: number;
  tls?: { ca?: string; cert?: string; key?: string };
  /** Anything else the upstream client takes (proxy, connection limits, ...). */
  client?: Partial<UpstreamClientOptions>;
  /**
   * Where the bytes come from instead of upstream: a restored package is in the registry replica
   * (`beskar-yum restore` reads headers only), and is stored here on its first request the same way.
   */
  open?: () => Promise<Readable>;
  /**
   * Called once the package is stored (`storage.driver: registry`: shared, so that other nodes
   * take it from the registry instead of upstream). A failure is logged: the package is served.
   */
  stored?: () => Promise<void>;
}

/**
 * Serves mirrored packages that are not stored yet (`sync_policy: on_demand`), one per process:
 * the first request for a package starts its download from upstream into the blob store
 * (verified against upstream's size and sha256, then committed), and every request for it while
 * that download runs, the first one included, reads the same download as it streams in. Fifty
 * clients asking at once for one uncached package make one upstream download.
 *
 * A download that fails verification is discarded and every reader's response is cut short (the
 * client's own checksum check then fails too); a client that goes away stops nothing, and the
 * package is still stored for the next request.
 */
export class OnDemandFetcher {
  private readonly downloads = new Map<string, Promise<SharedDownload>>();

  /** Opens `record`'s bytes; rejects, before anything is sent, when no upstream serves it. */
  async open(record: PackageRecord, blobs: FsBlobStore, options: OnDemandOptions): Promise<Readable> {
    const key = `${blobs.root}\0${record.id}`;
    let started = this.downloads.get(key);
    if (!started) {
      started = start(record, blobs, options);
      this.downloads.set(key, started);
      const forget = () => this.downloads.delete(key);
      started.then((download) => download.done.then(forget, forget), forget);
    }
    let download: SharedDownload;
    try {
      download = await started;
    } catch (err) {
      // The anonymous client learns which package failed; the upstream URL and cause go to the log.
      throw new YumError(
        options.open ? "REGISTRY_UNAVAILABLE" : "UPSTREAM_UNAVAILABLE",
        `${record.href} is not stored yet and could not be fetched from ${options.open ? "the registry" : "upstream"}`,
        {},
        { cause: err },
      );
    }
    return download.reader();
  }
}

/** Resolves once upstream answered with the body and the temporary file exists. */
async function start(record: PackageRecord, blobs: FsBlobStore, options: OnDemandOptions) {
  const client = options.open
    ? undefined
    : new UpstreamClient({
        ...options.client,
        urls: options.urls,
        log: options.log,
        ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
        ...(options.tls ? { tls: options.tls } : {}),
      });
  let body: Readable;
  try {
    body = client ? await client.stream(record.href) : await options.open!();
  } catch (err) {
    options.log(`on-demand fetch of ${record.href} failed: ${(err as Error).message}`);
    await client?.close();
    throw err;
  }
  const verification = new Verification(
    { size: record.fileSize, checksum: { type: "sha256", value: record.id } },
    record.fileSize,
    record.href,
  );
  let created!: () => void;
  const fileCreated = new Promise<void>((resolve) => {
    created = resolve;
  });
  const download = new SharedDownload(async (progress) => {
    try {
      const blob = await blobs.ingest(body, {
        maxBytes: record.fileSize,
        inspect: { update: (chunk) => verification.update(chunk), finish: () => verification.finish() },
        progress: {
          created: (tempPath) => {
            progress.created(tempPath);
            created();
          },
          written: progress.written,
        },
      });
      try {
        verification.checkSha256(blob.digest);
      } catch (err) {
        await blobs.discard(blob);
        throw err;
      }
      await blobs.commit(blob);
      await options.stored?.().catch((err: Error) => {
        options.log(`${record.href} is stored here but could not be shared: ${err.message}`);
      });
    } catch (err) {
      options.log(`on-demand fetch of ${record.href} failed: ${(err as Error).message}`);
      throw err;
    } finally {
      created();
      await client?.close();
    }
  });
  await fileCreated;
  return download;
}
