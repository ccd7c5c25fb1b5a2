import { PassThrough, type Readable } from "node:stream";
import type { FsBlobStore, PackageRecord } from "@beskar-yum/storage";
import { UpstreamClient } from "./upstream-client.js";
import { Verification } from "./verifier.js";

export interface OnDemandOptions {
  /** The mirror URLs of the repository. */
  urls: string[];
  log: (message: string) => void;
  timeoutMs?: number;
  tls?: { ca?: string; cert?: string; key?: string };
}

/**
 * Serves a mirrored package that is not stored yet (`sync_policy: on_demand`): the upstream bytes
 * go to the client as they arrive and, verified against upstream's size and sha256, into the blob
 * store, so the next request is served locally. A download that fails verification is discarded
 * and the client's response is cut short (its checksum check then fails too).
 *
 * Bytes are written to the client without waiting for it: a slow client makes this buffer.
 */
export async function streamOnDemand(
  record: PackageRecord,
  blobs: FsBlobStore,
  options: OnDemandOptions,
): Promise<Readable> {
  const client = new UpstreamClient({
    urls: options.urls,
    log: options.log,
    timeoutMs: options.timeoutMs,
    tls: options.tls,
  });
  let body: Readable;
  try {
    body = await client.stream(record.href);
  } catch (err) {
    await client.close();
    throw err;
  }
  const out = new PassThrough();
  const verification = new Verification(
    { size: record.fileSize, checksum: { type: "sha256", value: record.id } },
    record.fileSize,
    record.href,
  );
  blobs
    .ingest(body, {
      maxBytes: record.fileSize,
      inspect: {
        update: (chunk) => {
          verification.update(chunk);
          out.write(chunk);
        },
        finish: () => verification.finish(),
      },
    })
    .then(async (blob) => {
      try {
        verification.checkSha256(blob.digest);
      } catch (err) {
        await blobs.discard(blob);
        throw err;
      }
      await blobs.commit(blob);
      out.end();
    })
    .catch((err: Error) => {
      options.log(`on-demand fetch of ${record.href} failed: ${err.message}`);
      out.destroy(err);
    })
    .finally(() => client.close());
  return out;
}
