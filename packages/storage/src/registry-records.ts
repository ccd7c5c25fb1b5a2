/**
 * What a repository has in an OCI registry (the registry replica, SPEC §7): one row per manifest we
 * pushed or were notified of, keyed by OCI repository kind and tag, with the digest of its content
 * layer and of the manifest itself. It maps a manifest digest back to its tag (a registry's delete
 * notification carries only the digest) and tells the replicator what is already there.
 *
 * Replication is pending while `generation > replicated`: every publish and every notification bumps
 * the generation; the replicator records the generation it brought the registry up to.
 */
export interface RegistryRecords {
  get(kind: RegistryKind, tag: string): Promise<RegistryManifestRecord | undefined>;
  byManifestDigest(kind: RegistryKind, manifestDigest: string): Promise<RegistryManifestRecord | undefined>;
  list(kind: RegistryKind): Promise<RegistryManifestRecord[]>;
  /** A page of `list`, by tag, after `afterTag` (keyset). */
  listPage(kind: RegistryKind, limit: number, afterTag?: string): Promise<RegistryManifestRecord[]>;
  /** Inserts or replaces the row of `record.kind`/`record.tag`. `external` also marks replication pending. */
  put(record: RegistryManifestRecord, options?: { external?: boolean }): Promise<void>;
  /** Forgets a row. `external` also marks replication pending. */
  remove(kind: RegistryKind, tag: string, options?: { external?: boolean }): Promise<void>;
  state(): Promise<RegistryReplicaState>;
  /** Marks replication pending (the repository changed). */
  requestReplication(): Promise<void>;
  /** Records the outcome of a replication round that started at `generation` ("" = success). */
  recordReplication(generation: number, error: string): Promise<void>;
}

/** `packages` or `repodata`: the OCI repository under `artifacts/yum/<name>/`. */
export type RegistryKind = "packages" | "repodata";

export interface RegistryManifestRecord {
  kind: RegistryKind;
  /** md5(rpm file name) for packages; `repomdxml` or the data type for repodata. */
  tag: string;
  /** `sha256:<hex>` of the content layer (the RPM, the metadata file, repomd.xml). */
  layerDigest: string;
  /** `sha256:<hex>` of the manifest as the registry stores it. */
  manifestDigest: string;
}

export interface RegistryReplicaState {
  generation: number;
  replicated: number;
  /** The last replication error, "" after a success. */
  error: string;
}

/**
 * The manifests a deleted repository still has in the registry replica. The repository's index goes
 * with the repository, so this is what remains for the replicator to delete them by digest.
 */
export interface RegistryTombstone {
  repository: string;
  manifests: { kind: RegistryKind; tag: string; manifestDigest: string }[];
}

/** A row of `registry_manifests`, as both index drivers store it. */
export interface RegistryManifestRow {
  kind: RegistryKind;
  tag: string;
  layer_digest: string;
  manifest_digest: string;
}

export const registryRecordOfRow = (row: RegistryManifestRow): RegistryManifestRecord => ({
  kind: row.kind,
  tag: row.tag,
  layerDigest: row.layer_digest,
  manifestDigest: row.manifest_digest,
});
