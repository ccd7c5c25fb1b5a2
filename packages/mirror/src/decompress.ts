import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { Transform } from "node:stream";
import { createGunzip } from "node:zlib";
import { YumError } from "@beskar-yum/errors";
import { hashName } from "./verifier.js";

/** Decompressed metadata we read at most when upstream declares no open-size: a bomb stops here. */
const defaultMaxOpenBytes = 4 * 1024 ** 3;

/**
 * The uncompressed content of a stored metadata file, checked against upstream's open-size and
 * open-checksum when declared and capped either way (decompression bombs).
 */
export function openMetadata(
  path: string,
  href: string,
  declared: { openSize?: number; openChecksum?: { type: string; value: string } },
): AsyncIterable<Buffer> {
  const source = createReadStream(path);
  let decoded: NodeJS.ReadableStream;
  if (href.endsWith(".gz")) decoded = source.pipe(createGunzip());
  else if (href.endsWith(".xml")) decoded = source;
  else {
    source.destroy();
    const ext = href.slice(href.lastIndexOf(".") + 1);
    throw new YumError(
      "REPODATA_INVALID",
      `${href}: ${ext}-compressed metadata is not supported yet (gz and plain XML are)`,
    );
  }
  const limit = declared.openSize ?? defaultMaxOpenBytes;
  const hash = declared.openChecksum ? createHash(hashName(declared.openChecksum.type)) : undefined;
  let size = 0;
  const check = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      size += chunk.length;
      if (size > limit) {
        done(
          new YumError(
            "REPODATA_INVALID",
            `${href}: decompresses to more than ${limit} bytes${declared.openSize !== undefined ? " (its declared open-size)" : ""}`,
          ),
        );
        return;
      }
      hash?.update(chunk);
      done(null, chunk);
    },
    flush(done) {
      if (hash && declared.openChecksum && hash.digest("hex") !== declared.openChecksum.value) {
        done(
          new YumError(
            "UPSTREAM_CHECKSUM_MISMATCH",
            `${href}: uncompressed content does not match its open-checksum`,
          ),
        );
        return;
      }
      done();
    },
  });
  if (decoded !== source) source.on("error", (err) => check.destroy(err));
  decoded.on("error", (err: Error) =>
    check.destroy(new YumError("REPODATA_INVALID", `${href}: cannot decompress: ${err.message}`)),
  );
  return decoded.pipe(check);
}
