import { readFileSync } from "node:fs";
import { join } from "node:path";
import { decompressMetadata } from "./metadata-codecs.js";

/** A metadata file of the previous generation: as stored, and its content once decompressed. */
export interface OldMetadataFile {
  bytes: Buffer;
  content: Buffer;
}

/** The previous repodata's repomd.xml and the files it names, read and decompressed. */
export interface OldMetadataFiles {
  repomdPath: string;
  repomd: string;
  /** Keyed by `location href` ("repodata/<name>"). */
  files: Map<string, OldMetadataFile>;
  /** Files named by repomd.xml that could not be read or decompressed, with why. */
  errors: Map<string, string>;
}

/**
 * Reads `<dir>/repodata/repomd.xml` and the primary, filelists and other files it points at,
 * and decompresses them. Only node:fs and the codecs are used and repomd.xml is merely
 * scanned for the three locations, so this runs on the prefetch thread while the modules that
 * really parse it load; `loadOldRepodata` checks the result against the parsed repomd.xml.
 * Throws (ENOENT, ...) when repomd.xml cannot be read.
 */
export async function readOldMetadataFiles(dir: string): Promise<OldMetadataFiles> {
  const repomdPath = join(dir, "repodata", "repomd.xml");
  const repomd = readFileSync(repomdPath, "utf8");
  const files = new Map<string, OldMetadataFile>();
  const errors = new Map<string, string>();
  for (const m of repomd.matchAll(
    /<data\s+type="(primary|filelists|other)">[\s\S]*?<location\s+href="([^"]+)"/g,
  )) {
    const location = m[2]!;
    if (!/^repodata\/[^/]+$/.test(location) || files.has(location)) continue;
    const path = join(dir, location);
    try {
      const bytes = readFileSync(path);
      files.set(location, { bytes, content: await decompressMetadata(path, bytes) });
    } catch (err) {
      errors.set(location, (err as Error).message);
    }
  }
  return { repomdPath, repomd, files, errors };
}
