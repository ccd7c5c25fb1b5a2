import { createHash } from "node:crypto";
import {
  EXTRA_CONFIG_MEDIATYPE,
  EXTRA_LAYER_MEDIATYPE_PREFIX,
  OCI_MANIFEST_MEDIATYPE,
  type OciDescriptor,
  type OciLayer,
  type OciManifest,
  PACKAGE_CONFIG_MEDIATYPE,
  PACKAGE_LAYER_MEDIATYPE,
  REPOMD_ASC_LAYER_MEDIATYPE,
  REPOMD_CONFIG_MEDIATYPE,
  REPOMD_LAYER_MEDIATYPE,
  TITLE_ANNOTATION,
} from "./oci-manifest.js";

/** The digest of zero bytes: every Beskar yum config blob is empty (BESKAR.md §3.1). */
export const EMPTY_BLOB_DIGEST = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/** The tag of the repomd.xml manifest in `<base>/repodata`. */
export const REPOMD_TAG = "repomdxml";

/** A blob a manifest refers to: `sha256:<hex>` and its size. */
export interface BlobRef {
  digest: string;
  size: number;
}

const emptyConfig = (mediaType: string): OciDescriptor => ({ mediaType, digest: EMPTY_BLOB_DIGEST, size: 0 });

/** Beskar's tag of a package manifest: lowercase hex MD5 of `<Name>-<Version>-<Release>.<arch>.rpm`. */
export function packageManifestTag(rpmName: string): string {
  return createHash("md5").update(rpmName).digest("hex");
}

/** The manifest of one RPM in `artifacts/yum/<name>/packages:<md5(rpmName)>`. */
export function packageManifest(rpm: BlobRef & { fileName: string; arch: string }): OciManifest {
  return {
    schemaVersion: 2,
    mediaType: OCI_MANIFEST_MEDIATYPE,
    config: emptyConfig(PACKAGE_CONFIG_MEDIATYPE),
    layers: [
      {
        mediaType: PACKAGE_LAYER_MEDIATYPE,
        digest: rpm.digest,
        size: rpm.size,
        annotations: { [TITLE_ANNOTATION]: rpm.fileName },
        platform: { architecture: rpm.arch, os: "linux" },
      },
    ],
  };
}

/** A data file of repomd.xml: its `<data type>` and the file name in repodata/ (`<sha256>-<file>`). */
export interface RepodataFile extends BlobRef {
  dataType: string;
  fileName: string;
}

/**
 * The manifest of `artifacts/yum/<name>/repodata:repomdxml`: repomd.xml (untitled), its signature when
 * there is one, and one layer per data file titled with its checksum-prefixed name.
 */
export function repomdManifest(repomd: BlobRef, files: readonly RepodataFile[], asc?: BlobRef): OciManifest {
  const layers: OciLayer[] = [
    { mediaType: REPOMD_LAYER_MEDIATYPE, digest: repomd.digest, size: repomd.size },
  ];
  if (asc) layers.push({ mediaType: REPOMD_ASC_LAYER_MEDIATYPE, digest: asc.digest, size: asc.size });
  for (const file of files) {
    layers.push({
      mediaType: `${EXTRA_LAYER_MEDIATYPE_PREFIX}${file.dataType}`,
      digest: file.digest,
      size: file.size,
      annotations: { [TITLE_ANNOTATION]: file.fileName },
    });
  }
  return {
    schemaVersion: 2,
    mediaType: OCI_MANIFEST_MEDIATYPE,
    config: emptyConfig(REPOMD_CONFIG_MEDIATYPE),
    layers,
  };
}

/** The manifest of user extra metadata in `artifacts/yum/<name>/repodata:<dataType>`. */
export function extraMetadataManifest(file: RepodataFile): OciManifest {
  return {
    schemaVersion: 2,
    mediaType: OCI_MANIFEST_MEDIATYPE,
    config: emptyConfig(EXTRA_CONFIG_MEDIATYPE),
    layers: [
      {
        mediaType: `${EXTRA_LAYER_MEDIATYPE_PREFIX}${file.dataType}`,
        digest: file.digest,
        size: file.size,
        annotations: { [TITLE_ANNOTATION]: file.fileName },
      },
    ],
  };
}

/**
 * The bytes of a manifest as pushed: compact JSON with keys in a fixed (sorted) order, so the same
 * manifest always has the same digest and a digest can be recomputed from the index alone.
 */
export function serializeManifest(manifest: OciManifest): Buffer {
  return Buffer.from(JSON.stringify(sortKeys(manifest)), "utf8");
}

/** `sha256:<hex>` of `bytes`. */
export function sha256Digest(bytes: Uint8Array): string {
  return `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
}

/** The digest of the serialized manifest: what the registry answers in `Docker-Content-Digest`. */
export function manifestDigest(manifest: OciManifest): string {
  return sha256Digest(serializeManifest(manifest));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value === null || typeof value !== "object") return value;
  const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
  entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return Object.fromEntries(entries.map(([k, v]) => [k, sortKeys(v)]));
}
