/**
 * Beskar's OCI layout for yum artifacts (BESKAR.md §3.1): the mediatypes, the manifests Beskar sends as
 * event payloads or a registry serves (package manifests: config `rpm.package.v1.config+json`, one
 * `rpm.package.v1.rpm` layer titled with the RPM file name; user extra metadata manifests: config
 * `rpm.repomd.extra.v1.config+xml`, one `repomd.extra.v1.<type>` layer), and how to read them.
 */

export const OCI_MANIFEST_MEDIATYPE = "application/vnd.oci.image.manifest.v1+json";
export const PACKAGE_CONFIG_MEDIATYPE = "application/vnd.ciq.rpm.package.v1.config+json";
export const PACKAGE_LAYER_MEDIATYPE = "application/vnd.ciq.rpm.package.v1.rpm";
export const REPOMD_CONFIG_MEDIATYPE = "application/vnd.ciq.rpm.repomd.v1.config+json";
export const REPOMD_LAYER_MEDIATYPE = "application/vnd.ciq.rpm.repomd.v1.xml";
export const REPOMD_ASC_LAYER_MEDIATYPE = "application/vnd.ciq.rpm.repomd.v1.xml.asc";
export const EXTRA_CONFIG_MEDIATYPE = "application/vnd.ciq.rpm.repomd.extra.v1.config+xml";
export const EXTRA_LAYER_MEDIATYPE_PREFIX = "application/vnd.ciq.rpm.repomd.extra.v1.";
export const TITLE_ANNOTATION = "org.opencontainers.image.title";

/** The config mediatypes the yum plugin receives events for (`Info.mediatypes`). */
export const YUM_EVENT_MEDIATYPES: readonly string[] = [PACKAGE_CONFIG_MEDIATYPE, EXTRA_CONFIG_MEDIATYPE];

export interface OciDescriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
}

export interface OciPlatform {
  architecture: string;
  os: string;
}

export interface OciLayer extends OciDescriptor {
  platform?: OciPlatform;
}

export interface OciManifest {
  schemaVersion?: number;
  mediaType?: string;
  config: OciDescriptor;
  layers: OciLayer[];
  annotations?: Record<string, string>;
}

/** The one layer of a yum artifact manifest, with its title. */
export interface ArtifactLayer extends OciDescriptor {
  title: string;
}

const sha256Digest = /^sha256:[0-9a-f]{64}$/;

/** Parses an event payload as an OCI manifest; throws with what is wrong. */
export function parseOciManifest(payload: Uint8Array): OciManifest {
  if (payload.length === 0) throw new Error("the event carries no manifest");
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(payload).toString("utf8"));
  } catch (err) {
    throw new Error(`the event's manifest is not JSON: ${(err as Error).message}`);
  }
  const manifest = value as Partial<OciManifest> | null;
  if (!manifest || typeof manifest !== "object" || !manifest.config || !Array.isArray(manifest.layers)) {
    throw new Error("the event's manifest has no config or no layers");
  }
  return manifest as OciManifest;
}

/**
 * The single layer of a package or extra metadata manifest: `layerMediatype` (or, ending with ".", any
 * mediatype with that prefix), a sha256 digest and a title annotation.
 */
export function artifactLayer(manifest: OciManifest, layerMediatype: string): ArtifactLayer {
  const matches = (mt: string) =>
    layerMediatype.endsWith(".") ? mt.startsWith(layerMediatype) : mt === layerMediatype;
  const layers = manifest.layers.filter((l) => typeof l?.mediaType === "string" && matches(l.mediaType));
  if (layers.length !== 1) {
    throw new Error(`expected one ${layerMediatype} layer in the manifest, found ${layers.length}`);
  }
  const layer = layers[0]!;
  if (typeof layer.digest !== "string" || !sha256Digest.test(layer.digest)) {
    throw new Error(`layer digest ${JSON.stringify(layer.digest)} is not a sha256 digest`);
  }
  const title = layer.annotations?.[TITLE_ANNOTATION];
  if (typeof title !== "string" || title === "")
    throw new Error(`layer ${layer.digest} has no title annotation`);
  return { ...layer, title };
}
