import { createHash } from "node:crypto";
import { open } from "node:fs/promises";
import { YumError } from "@beskar-yum/errors";
import { checkXml, decompressMetadataStream, sniffCompression as sniffMagic } from "@beskar-yum/repodata";

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

/**
 * Detects the compression of a file from its first bytes, by the magic numbers the decoders use
 * (`@beskar-yum/repodata`'s `sniffCompression`), named as file extensions.
 */
export async function sniffCompression(path: string): Promise<Compression | undefined> {
  const handle = await open(path, "r");
  try {
    const { buffer, bytesRead } = await handle.read(Buffer.alloc(6), 0, 6, 0);
    const kind = sniffMagic(buffer.subarray(0, bytesRead));
    return kind === "none" ? undefined : kind === "zstd" ? "zst" : kind;
  } finally {
    await handle.close();
  }
}

/** `<type>.xml` with the compression's extension, the name modifyrepo_c would give. */
export function defaultExtraFileName(dataType: string, compression: Compression | undefined): string {
  return `${dataType}.xml${compression ? `.${compression}` : ""}`;
}

/**
 * repomd data types that are XML whatever their content looks like (createrepo_c/modifyrepo_c and
 * dnf/libsolv read them as XML): comps `group` (and its `group_gz` copy), `updateinfo`,
 * `prestodelta`/`deltainfo` (drpms), SUSE's `susedata`/`suseinfo`/`patterns`/`products`.
 */
const xmlDataTypes = new Set([
  "group",
  "group_gz",
  "updateinfo",
  "prestodelta",
  "deltainfo",
  "susedata",
  "suseinfo",
  "patterns",
  "products",
]);
/** Data types that are text (YAML): `modules` (libmodulemd's modules.yaml) must at least be valid UTF-8. */
const textDataTypes = new Set(["modules"]);

/**
 * Bytes skipped before deciding whether content is XML: whitespace, byte order marks (UTF-8's
 * EF BB BF, UTF-16's FE FF/FF FE) and NULs (UTF-16/32 without a BOM), so that no encoding of `<`
 * slips past the XML rule; such XML is then parsed as UTF-8 and refused as not well-formed.
 */
const leadingBytes = new Set([0x20, 0x09, 0x0a, 0x0d, 0x00, 0xef, 0xbb, 0xbf, 0xfe, 0xff]);

/** Leading bytes (whitespace, BOMs, NULs) held while deciding whether content is XML, at most. */
const undecidedBytes = 1024 * 1024;

export interface InspectExtraOptions {
  /** The repomd data type (`group`, `updateinfo`, `modules`, ...). */
  dataType: string;
  /** Decompressed bytes read at most (decompression bombs). Default 2 GiB. */
  maxOpenBytes?: number;
}

/** `gzip`, `xz`, ... as error messages name them. */
const compressionLabel: Record<Compression, string> = { gz: "gzip", xz: "xz", bz2: "bzip2", zst: "zstd" };

/**
 * Checks an uploaded metadata file and measures its uncompressed content (open-checksum and
 * open-size, for every compression). The file is decompressed as a stream by the decoders the
 * mirror uses (`decompressMetadataStream`: gzip, xz, bzip2, zstd or plain, by magic number), capped
 * at `maxOpenBytes`. Content whose first significant byte is `<` is XML whatever the file is
 * called, and so is every data type that is always XML (`xmlDataTypes`); XML goes through the shared
 * safe parser: well-formed, and a DOCTYPE that only names an external DTD (every comps.xml has one)
 * is accepted and never loaded, while an internal subset, where entities would be declared, is
 * refused. `modules` (YAML) must be valid UTF-8.
 */
export async function inspectExtraFile(
  path: string,
  fileName: string,
  compression: Compression | undefined,
  options: InspectExtraOptions,
): Promise<{ openDigest: string; openSize: number }> {
  const maxBytes = options.maxOpenBytes ?? maxOpenBytes;
  const hash = createHash("sha256");
  let size = 0;
  async function* measured(): AsyncGenerator<Buffer> {
    try {
      for await (const chunk of decompressMetadataStream(path, { name: fileName, maxBytes })) {
        size += chunk.length;
        hash.update(chunk);
        yield chunk;
      }
    } catch (err) {
      if (err instanceof YumError && !/: cannot decompress: /.test(err.message)) throw err;
      const what = compression ? `a valid ${compressionLabel[compression]} file` : "readable";
      const why = (err as Error).message.replace(/^.*?: cannot decompress: /, "");
      throw new YumError("REPODATA_INVALID", `${fileName}: not ${what}: ${why}`, { file: fileName });
    }
  }
  const chunks = measured();
  // The first significant byte decides whether the content is XML. What precedes it is held until
  // then, at most `undecidedBytes`: content that has not shown one by then is parsed as XML (no real
  // file starts with a MiB of whitespace, and a bomb of NULs or spaces must not be held in memory).
  const head: Buffer[] = [];
  let headBytes = 0;
  let first: number | undefined;
  while (first === undefined && headBytes <= undecidedBytes) {
    const r = await chunks.next();
    if (r.done) break;
    head.push(r.value);
    headBytes += r.value.length;
    first = r.value.find((b) => !leadingBytes.has(b));
  }
  const xml = first === 0x3c /* < */ || (first === undefined && headBytes > undecidedBytes);
  const all = (async function* () {
    yield* head.splice(0);
    yield* chunks;
  })();
  try {
    if (xml || xmlDataTypes.has(options.dataType)) {
      if (!xml) {
        throw new YumError(
          "REPODATA_INVALID",
          `${fileName}: ${options.dataType} metadata must be XML (its first character is not "<")`,
          { file: fileName },
        );
      }
      await checkXml(all, fileName);
    } else if (textDataTypes.has(options.dataType)) {
      const utf8 = new TextDecoder("utf-8", { fatal: true });
      try {
        for await (const chunk of all) utf8.decode(chunk, { stream: true });
        utf8.decode();
      } catch (err) {
        if (err instanceof YumError) throw err;
        throw new YumError(
          "REPODATA_INVALID",
          `${fileName}: ${options.dataType} metadata must be UTF-8 text`,
          {
            file: fileName,
          },
        );
      }
    } else {
      for await (const _ of all);
    }
  } finally {
    await chunks.return(undefined);
  }
  return { openDigest: hash.digest("hex"), openSize: size };
}
