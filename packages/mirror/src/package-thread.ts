/**
 * Entry module of the package thread (`PackageStore` starts it): parses a downloaded, verified
 * package from memory, builds its index record, and stores it as a blob (`FsBlobStore.putSync`: not
 * fsynced, the sync makes every blob durable at once before it records them). Synchronous file
 * calls on a thread of their own: no thread-pool round trips, and the main thread goes on
 * downloading meanwhile.
 */
import { parentPort } from "node:worker_threads";
import { errorCodes } from "@beskar-yum/errors";
import { buildPackageRecord } from "@beskar-yum/repository";
import { parseRpm, verifyRpmPayload } from "@beskar-yum/rpm";
import { FsBlobStore } from "@beskar-yum/storage";
import type { PackageJob, PackageJobReply } from "./package-store.js";

const port = parentPort;
if (port) {
  const stores = new Map<string, FsBlobStore>();
  const blobsAt = (root: string) => {
    const known = stores.get(root);
    if (known) return known;
    const blobs = new FsBlobStore(root);
    stores.set(root, blobs);
    return blobs;
  };
  const handle = async (job: PackageJob): Promise<PackageJobReply> => {
    let stage: "parse" | "record" | "store" = "parse";
    try {
      const blobs = blobsAt(job.root);
      const bytes = Buffer.from(job.data.buffer, job.data.byteOffset, job.data.byteLength);
      const parsed = parseRpm(bytes, { fileName: job.href, fileSize: bytes.length });
      // The bytes are all here: the payload digest is checked before anything is stored.
      verifyRpmPayload(parsed, bytes);
      stage = "record";
      const record = await buildPackageRecord(
        blobs,
        {
          digest: job.digest,
          uploadTime: job.uploadTime,
          verified: false,
          ...(job.gpgKey ? { gpgKey: job.gpgKey } : {}),
        },
        { href: job.href },
        parsed,
      );
      stage = "store";
      blobs.putSync(job.digest, bytes);
      return { id: job.id, record };
    } catch (err) {
      const e = err as { code?: string; message?: string };
      const code = e.code && e.code in errorCodes ? e.code : undefined;
      const message =
        stage === "store" && e.code && !code ? `${e.code}: ${e.message}` : String(e.message ?? err);
      return { id: job.id, error: { stage, message, ...(code ? { code } : {}) } };
    }
  };
  port.on("message", (job: PackageJob) => {
    void handle(job).then((reply) => port.postMessage(reply));
  });
}
