import { PassThrough, pipeline, type Readable, Transform } from "node:stream";
import type { FsBlobStore, PackageRecord } from "@beskar-yum/storage";
import { UpstreamClient } from "./upstream-client.js";
import { Verification } from "./verifier.js";

export interface OnDemandOptions {
  /** The mirror URLs of the repository. */
  urls: string[];
  log: (message: string) => void;
  timeoutMs?: number;
  tls?: { ca?: string; cert?: string; key?: string };
  /** Bytes that may wait for a slow client before the download waits for it. Default 1 MiB. */
  clientBufferBytes?: number;
}

/**
 * Serves a mirrored package that is not stored yet (`sync_policy: on_demand`): the upstream bytes
 * go to the client as they arrive and, verified against upstream's size and sha256, into the blob
 * store, so the next request is served locally. A download that fails verification is discarded
 * and the client's response is cut short (its checksum check then fails too).
 *
 * The download goes at the client's pace (at most `clientBufferBytes` wait for it), so a slow client
 * of a big package costs no memory; a client that goes away stops slowing it, and the package is
 * still stored.
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
  const out = new PassThrough({ highWaterMark: options.clientBufferBytes ?? 1024 ** 2 });
  const verification = new Verification(
    { size: record.fileSize, checksum: { type: "sha256", value: record.id } },
    record.fileSize,
    record.href,
  );
  // pipeline: an upstream that fails midway fails the paced stream, and so the ingest.
  const paced = pipeline(body, paceOf(out), () => {});
  blobs
    .ingest(paced, {
      maxBytes: record.fileSize,
      inspect: {
        update: (chunk) => verification.update(chunk),
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

/**
 * Passes the download through to the blob store, copying it to `client`, and holds each chunk until
 * the client has room for it. Once the client is gone, chunks go straight through.
 */
function paceOf(client: PassThrough): Transform {
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      if (client.destroyed || client.writableEnded || client.write(chunk)) return callback(null, chunk);
      const go = () => {
        client.off("drain", go);
        client.off("close", go);
        callback(null, chunk);
      };
      client.on("drain", go);
      client.on("close", go);
    },
  });
}
