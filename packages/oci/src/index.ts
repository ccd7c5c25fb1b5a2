/**
 * Beskar's OCI layout for yum artifacts and an OCI distribution client: the mediatypes and manifest
 * parsers (`oci-manifest`), deterministic manifest builders (`beskar-manifests`) and `RegistryClient`
 * (blobs, manifests, tags; plain HTTP, TLS or Beskar's mTLS through `RegistryTransportOptions`).
 */
export {
  type BlobRef,
  EMPTY_BLOB_DIGEST,
  extraMetadataManifest,
  manifestDigest,
  packageManifest,
  packageManifestTag,
  REPOMD_TAG,
  type RepodataFile,
  repomdManifest,
  serializeManifest,
  sha256Digest,
} from "./beskar-manifests.js";
export {
  type ArtifactLayer,
  artifactLayer,
  EXTRA_CONFIG_MEDIATYPE,
  EXTRA_LAYER_MEDIATYPE_PREFIX,
  OCI_MANIFEST_MEDIATYPE,
  type OciDescriptor,
  type OciLayer,
  type OciManifest,
  type OciPlatform,
  PACKAGE_CONFIG_MEDIATYPE,
  PACKAGE_LAYER_MEDIATYPE,
  parseOciManifest,
  REPOMD_ASC_LAYER_MEDIATYPE,
  REPOMD_CONFIG_MEDIATYPE,
  REPOMD_LAYER_MEDIATYPE,
  TITLE_ANNOTATION,
  YUM_EVENT_MEDIATYPES,
} from "./oci-manifest.js";
export {
  type BlobSource,
  type FetchedManifest,
  type PushedManifest,
  RegistryClient,
  type RegistryClientOptions,
  type RegistrySettings,
  type RegistryTransportOptions,
  type RequestOptions,
  registryClientOptions,
} from "./registry-client.js";
export { digestVerifier } from "./verified-stream.js";
