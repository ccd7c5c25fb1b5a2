import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { open } from "node:fs/promises";
import { createGunzip } from "node:zlib";
import { YumError } from "@beskar-yum/errors";
import { SafeXmlParser } from "@beskar-yum/repodata";

/** repomd `<data type>` names a user may upload; ours (and their database forms) are reserved. */
const dataTypePattern = /^[a-z][a-z0-9_]{0,63}$/;
const reserved = /^(primary|filelists|other)(_db|_zck)?$/;

/** Decompressed content we inspect at most: beyond this a file is a decompression bomb. */
const maxOpenBytes = 2 * 1024 ** 3;
export type Compression = "gz" | "xz" | "bz2" | "zst";

export function assertExtraDataType(dataType: string): string {
  if (!dataTypePattern.test(dataType) || reserved.test(dataType)) {
    throw new YumError(
      "INVALID_ARGUMENT",
      `invalid metadata type ${JSON.stringify(dataType)}: expected a repomd data type such as group, updateinfo or modules (primary, filelists and other are generated)`,
    );
  }
  return dataType;
}

export function assertExtraFileName(fileName: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9._+-]{0,127}$/.test(fileName)) {
    throw new YumError("INVALID_FILE_NAME", `invalid metadata file name ${JSON.stringify(fileName)}`);
  }
  return fileName;
}

/** Detects the compression of a file from its first bytes. */
export async function sniffCompression(path: string): Promise<Compression | undefined> {
  const handle = await open(path, "r");
  try {
    const { buffer, bytesRead } = await handle.read(Buffer.alloc(6), 0, 6, 0);
    const head = buffer.subarray(0, bytesRead);
    if (head[0] === 0x1f && head[1] === 0x8b) return "gz";
    if (head.equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))) return "xz";
    if (head.subarray(0, 3).toString("latin1") === "BZh") return "bz2";
    if (head.readUInt32LE(0) === 0xfd2fb528) return "zst";
    return undefined;
  } finally {
    await handle.close();
  }
}

/** `<type>.xml` with the compression's extension, the name modifyrepo_c would give. */
export function defaultExtraFileName(dataType: string, compression: Compression | undefined): string {
  return `${dataType}.xml${compression ? `.${compression}` : ""}`;
}

/**
 * Checks an uploaded metadata file and measures its uncompressed content: sha256 and size for plain
 * and gzip files (Node has no xz/bzip2/zstd decoder; those are stored without open-checksum), and
 * XML well-formedness for `.xml` files, streamed through the shared safe parser: a DOCTYPE that only
 * names an external DTD (every comps.xml has one) is accepted and never loaded; an internal subset,
 * where entities would be declared, is refused.
 */
export async function inspectExtraFile(
  path: string,
  fileName: string,
  compression: Compression | undefined,
): Promise<{ openDigest?: string; openSize?: number }> {
  if (compression !== undefined && compression !== "gz") return {};
  const hash = createHash("sha256");
  const isXml = /\.xml(\.gz)?$/.test(fileName);
  const xml = isXml ? new SafeXmlParser(fileName, { syntaxPrefix: "not well-formed XML: " }) : undefined;
  let size = 0;
  const source = createReadStream(path);
  const stream = compression === "gz" ? source.pipe(createGunzip()) : source;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > maxOpenBytes) {
        throw new YumError(
          "REPODATA_INVALID",
          `${fileName}: decompresses to more than ${maxOpenBytes} bytes`,
        );
      }
      hash.update(chunk);
      xml?.write(chunk);
    }
    xml?.close();
  } catch (err) {
    if (err instanceof YumError) throw err;
    throw new YumError("REPODATA_INVALID", `${fileName}: not a valid gzip file: ${(err as Error).message}`);
  } finally {
    source.destroy();
  }
  return { openDigest: hash.digest("hex"), openSize: size };
}
