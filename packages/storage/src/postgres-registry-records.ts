import type { Pool, PoolClient } from "pg";
import {
  type RegistryKind,
  type RegistryManifestRecord,
  type RegistryRecords,
  type RegistryReplicaState,
  type RegistryManifestRow as Row,
  registryRecordOfRow as toRecord,
} from "./registry-records.js";

const columns = "kind, tag, layer_digest, manifest_digest";

/** `RegistryRecords` of one repository in PostgreSQL (`registry_manifests`, `repositories.registry_*`). */
export class PostgresRegistryRecords implements RegistryRecords {
  constructor(
    private readonly pool: Pool,
    private readonly repoId: number,
  ) {}

  async get(kind: RegistryKind, tag: string): Promise<RegistryManifestRecord | undefined> {
    const { rows } = await this.pool.query<Row>(
      `SELECT ${columns} FROM registry_manifests WHERE repo_id = $1 AND kind = $2 AND tag = $3`,
      [this.repoId, kind, tag],
    );
    return rows[0] ? toRecord(rows[0]) : undefined;
  }

  async byManifestDigest(
    kind: RegistryKind,
    manifestDigest: string,
  ): Promise<RegistryManifestRecord | undefined> {
    const { rows } = await this.pool.query<Row>(
      `SELECT ${columns} FROM registry_manifests WHERE repo_id = $1 AND kind = $2 AND manifest_digest = $3 LIMIT 1`,
      [this.repoId, kind, manifestDigest],
    );
    return rows[0] ? toRecord(rows[0]) : undefined;
  }

  async list(kind: RegistryKind): Promise<RegistryManifestRecord[]> {
    const { rows } = await this.pool.query<Row>(
      `SELECT ${columns} FROM registry_manifests WHERE repo_id = $1 AND kind = $2 ORDER BY tag`,
      [this.repoId, kind],
    );
    return rows.map(toRecord);
  }

  async listPage(kind: RegistryKind, limit: number, afterTag = ""): Promise<RegistryManifestRecord[]> {
    const { rows } = await this.pool.query<Row>(
      `SELECT ${columns} FROM registry_manifests WHERE repo_id = $1 AND kind = $2 AND tag > $3 ORDER BY tag LIMIT $4`,
      [this.repoId, kind, afterTag, limit],
    );
    return rows.map(toRecord);
  }

  async put(record: RegistryManifestRecord, options: { external?: boolean } = {}): Promise<void> {
    await this.pool.query(
      `WITH put AS (
         INSERT INTO registry_manifests (repo_id, ${columns}) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (repo_id, kind, tag) DO UPDATE SET layer_digest = excluded.layer_digest,
           manifest_digest = excluded.manifest_digest)
       UPDATE repositories SET registry_generation = registry_generation + 1 WHERE id = $1 AND $6::boolean`,
      [
        this.repoId,
        record.kind,
        record.tag,
        record.layerDigest,
        record.manifestDigest,
        options.external === true,
      ],
    );
  }

  async remove(kind: RegistryKind, tag: string, options: { external?: boolean } = {}): Promise<void> {
    await this.pool.query(
      `WITH removed AS (DELETE FROM registry_manifests WHERE repo_id = $1 AND kind = $2 AND tag = $3)
       UPDATE repositories SET registry_generation = registry_generation + 1 WHERE id = $1 AND $4::boolean`,
      [this.repoId, kind, tag, options.external === true],
    );
  }

  async state(): Promise<RegistryReplicaState> {
    const { rows } = await this.pool.query<RegistryReplicaState>(
      "SELECT registry_generation AS generation, registry_replicated AS replicated, registry_error AS error FROM repositories WHERE id = $1",
      [this.repoId],
    );
    return rows[0] ?? { generation: 0, replicated: 0, error: "" };
  }

  async requestReplication(): Promise<void> {
    await this.bumpGeneration(this.pool);
  }

  /** `requestReplication` on `db` (inside the caller's transaction when it is one). */
  async bumpGeneration(db: Pool | PoolClient): Promise<void> {
    await db.query("UPDATE repositories SET registry_generation = registry_generation + 1 WHERE id = $1", [
      this.repoId,
    ]);
  }

  async recordReplication(generation: number, error: string): Promise<void> {
    if (error)
      await this.pool.query("UPDATE repositories SET registry_error = $2 WHERE id = $1", [
        this.repoId,
        error,
      ]);
    else
      await this.pool.query(
        "UPDATE repositories SET registry_replicated = GREATEST(registry_replicated, $2), registry_error = '' WHERE id = $1",
        [this.repoId, generation],
      );
  }
}
