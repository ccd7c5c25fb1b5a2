import { createHash } from "node:crypto";
import { Transform } from "node:stream";
import { YumError } from "@beskar-yum/errors";

/**
 * A pass-through that fails at its end (before the consumer sees the end) when the bytes do not hash
 * to `digest` (`sha256:<hex>`) or do not add up to `size`, so a consumer never takes a bad blob.
 */
export function digestVerifier(digest: string, size: number | undefined): Transform {
  const hash = createHash("sha256");
  let received = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      hash.update(chunk);
      received += chunk.length;
      callback(null, chunk);
    },
    flush(callback) {
      const actual = `sha256:${hash.digest("hex")}`;
      if (actual !== digest) {
        callback(
          new YumError("REGISTRY_DIGEST_MISMATCH", `blob ${digest}: received bytes hash to ${actual}`, {
            digest,
            actual,
          }),
        );
      } else if (size !== undefined && size !== received) {
        callback(
          new YumError(
            "REGISTRY_DIGEST_MISMATCH",
            `blob ${digest}: ${received} bytes received, ${size} expected`,
            {
              digest,
              received,
              size,
            },
          ),
        );
      } else callback();
    },
  });
}
