import { createHash } from "node:crypto";
import { YumError } from "@beskar-yum/errors";
import { decompressMetadataStream } from "@beskar-yum/repodata";
import { hashName } from "./verifier.js";

/** Decompressed metadata we read at most when upstream declares no open-size: a bomb stops here. */
const defaultMaxOpenBytes = 4 * 1024 ** 3;

/**
 * The uncompressed content of a stored metadata file (gz, xz, zstd, bz2 or plain, by magic number),
 * checked against upstream's open-size and open-checksum when declared and capped either way
 * (decompression bombs): output is pulled a chunk at a time and counted before it is used.
 */
export async function* openMetadata(
  path: string,
  href: string,
  declared: { openSize?: number; openChecksum?: { type: string; value: string } },
): AsyncGenerator<Buffer> {
  const limit = declared.openSize ?? defaultMaxOpenBytes;
  const hash = declared.openChecksum ? createHash(hashName(declared.openChecksum.type)) : undefined;
  let size = 0;
  try {
    for await (const chunk of decompressMetadataStream(path, { name: href })) {
      size += chunk.length;
      if (size > limit) {
        const why = declared.openSize !== undefined ? " (its declared open-size)" : "";
        throw new YumError("REPODATA_INVALID", `${href}: decompresses to more than ${limit} bytes${why}`);
      }
      hash?.update(chunk);
      yield chunk;
    }
  } catch (err) {
    if (err instanceof YumError) throw err;
    throw new YumError(
      "REPODATA_INVALID",
      `${href}: cannot decompress: ${(err as Error).message}`,
      {},
      { cause: err },
    );
  }
  if (hash && declared.openChecksum && hash.digest("hex") !== declared.openChecksum.value) {
    throw new YumError(
      "UPSTREAM_CHECKSUM_MISMATCH",
      `${href}: uncompressed content does not match its open-checksum`,
    );
  }
}
