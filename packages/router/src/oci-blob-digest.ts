import { YumError } from "@beskar-yum/errors";

/** A layer descriptor of an OCI image manifest, as far as `oci.blob_digest` reads it. */
export interface OciLayer {
  readonly mediaType: string;
  /** `<algorithm>:<hex>`, for example `sha256:0a1b...`. */
  readonly digest: string;
  readonly annotations?: Readonly<Record<string, string>>;
}

/** How `oci.blob_digest` searches a manifest's layers. */
export type BlobSearchKind = "mediatype" | "annotation";

/**
 * Splits `oci.blob_digest`'s first argument, `<repository>:<tag>`, at its last colon (as Beskar
 * does: repository names have no colon, a registry host with a port is not part of them).
 */
export function splitTaggedReference(ref: string): { repository: string; tag: string } {
  const colon = ref.lastIndexOf(":");
  if (colon < 0)
    throw new YumError("INVALID_ARGUMENT", `oci.blob_digest: reference ${JSON.stringify(ref)} has no tag`);
  return { repository: ref.slice(0, colon), tag: ref.slice(colon + 1) };
}

/**
 * Beskar's layer search: the hex digest (without the algorithm) of the first layer whose
 * mediatype is `value`, or, for "annotation", whose annotations hold `value` = `<key>=<value>`;
 * "" when no layer qualifies or the search kind is unknown.
 */
export function findLayerDigest(layers: readonly OciLayer[], kind: string, value: string): string {
  let qualifies: (layer: OciLayer) => boolean;
  if (kind === "mediatype") {
    qualifies = (layer) => layer.mediaType === value;
  } else if (kind === "annotation") {
    const eq = value.indexOf("=");
    if (eq < 0) {
      throw new YumError(
        "INVALID_ARGUMENT",
        `oci.blob_digest: annotation ${JSON.stringify(value)} is not key=value`,
      );
    }
    const key = value.slice(0, eq);
    const wanted = value.slice(eq + 1);
    // A missing annotation reads as "" in Go, so "key=" matches a layer without the key.
    qualifies = (layer) => (layer.annotations?.[key] ?? "") === wanted;
  } else {
    return "";
  }
  const layer = layers.find(qualifies);
  if (!layer) return "";
  const colon = layer.digest.indexOf(":");
  return colon < 0 ? layer.digest : layer.digest.slice(colon + 1);
}

/**
 * An `oci.blob_digest` implementation over a manifest lookup: `layersOf(repository, tag)` gives
 * the tagged manifest's layers, or undefined when the tag is unknown (then the digest is "").
 */
export function blobDigestFromManifests(
  layersOf: (
    repository: string,
    tag: string,
  ) => readonly OciLayer[] | undefined | Promise<readonly OciLayer[] | undefined>,
): (ref: string, kind: BlobSearchKind, value: string) => Promise<string> {
  return async (ref, kind, value) => {
    const { repository, tag } = splitTaggedReference(ref);
    const layers = await layersOf(repository, tag);
    return layers ? findLayerDigest(layers, kind, value) : "";
  };
}
