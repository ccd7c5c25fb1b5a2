import type Database from "better-sqlite3";
import { prepared } from "./prepared.js";
import {
  type RegistryKind,
  type RegistryManifestRecord,
  type RegistryRecords,
  type RegistryReplicaState,
  type RegistryManifestRow as Row,
  registryRecordOfRow as toRecord,
} from "./registry-records.js";

/** `RegistryRecords` in the repository's SQLite index (tables `registry_manifests`, `registry_state`: schema-migrations.ts). */
export class SqliteRegistryRecords implements RegistryRecords {
  /** @param connection the index's connection (the index may have reopened it since) */
  constructor(private readonly connection: () => Database.Database) {}

  private get db(): Database.Database {
    return this.connection();
  }

  async get(kind: RegistryKind, tag: string): Promise<RegistryManifestRecord | undefined> {
    const row = prepared(this.db, "SELECT * FROM registry_manifests WHERE kind = ? AND tag = ?").get(
      kind,
      tag,
    ) as Row | undefined;
    return row ? toRecord(row) : undefined;
  }

  async byManifestDigest(
    kind: RegistryKind,
    manifestDigest: string,
  ): Promise<RegistryManifestRecord | undefined> {
    const row = prepared(
      this.db,
      "SELECT * FROM registry_manifests WHERE kind = ? AND manifest_digest = ? LIMIT 1",
    ).get(kind, manifestDigest) as Row | undefined;
    return row ? toRecord(row) : undefined;
  }

  async list(kind: RegistryKind): Promise<RegistryManifestRecord[]> {
    const rows = prepared(this.db, "SELECT * FROM registry_manifests WHERE kind = ? ORDER BY tag").all(
      kind,
    ) as Row[];
    return rows.map(toRecord);
  }

  async listPage(kind: RegistryKind, limit: number, afterTag = ""): Promise<RegistryManifestRecord[]> {
    const rows = prepared(
      this.db,
      "SELECT * FROM registry_manifests WHERE kind = ? AND tag > ? ORDER BY tag LIMIT ?",
    ).all(kind, afterTag, limit) as Row[];
    return rows.map(toRecord);
  }

  async put(record: RegistryManifestRecord, options: { external?: boolean } = {}): Promise<void> {
    this.db
      .transaction(() => {
        prepared(
          this.db,
          "INSERT OR REPLACE INTO registry_manifests (kind, tag, layer_digest, manifest_digest) VALUES (?, ?, ?, ?)",
        ).run(record.kind, record.tag, record.layerDigest, record.manifestDigest);
        if (options.external) this.bumpGeneration();
      })
      .immediate();
  }

  async remove(kind: RegistryKind, tag: string, options: { external?: boolean } = {}): Promise<void> {
    this.db
      .transaction(() => {
        prepared(this.db, "DELETE FROM registry_manifests WHERE kind = ? AND tag = ?").run(kind, tag);
        if (options.external) this.bumpGeneration();
      })
      .immediate();
  }

  async state(): Promise<RegistryReplicaState> {
    return prepared(
      this.db,
      "SELECT generation, replicated, error FROM registry_state WHERE id = 1",
    ).get() as RegistryReplicaState;
  }

  async requestReplication(): Promise<void> {
    this.bumpGeneration();
  }

  /** `requestReplication` inside the caller's (synchronous) transaction. */
  bumpGeneration(): void {
    prepared(this.db, "UPDATE registry_state SET generation = generation + 1 WHERE id = 1").run();
  }

  async recordReplication(generation: number, error: string): Promise<void> {
    if (error) prepared(this.db, "UPDATE registry_state SET error = ? WHERE id = 1").run(error);
    else
      prepared(
        this.db,
        "UPDATE registry_state SET replicated = MAX(replicated, ?), error = '' WHERE id = 1",
      ).run(generation);
  }
}
