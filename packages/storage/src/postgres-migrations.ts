import { YumError } from "@beskar-yum/errors";
import type { Pool } from "pg";

/**
 * The PostgreSQL index schema, versioned like the SQLite one (schema-migrations.ts): ordered steps,
 * never edited once shipped, applied at start in one transaction, the version kept in
 * `schema_version`. Every repository's rows live in the same tables, keyed by the repository's
 * surrogate id (`repositories.id`; the name is unique): one migration for all, one query to list
 * them (docs/design.md).
 */
export interface PostgresMigration {
  version: number;
  description: string;
  sql: string;
}

const packageColumns = `
  repo_id BIGINT NOT NULL REFERENCES repositories (id) ON DELETE CASCADE,
  href TEXT NOT NULL,
  tag TEXT NOT NULL,
  id TEXT NOT NULL,
  file_name TEXT NOT NULL,
  meta TEXT NOT NULL,
  primary_xml TEXT NOT NULL,
  filelists_xml TEXT NOT NULL,
  other_xml TEXT NOT NULL,
  PRIMARY KEY (repo_id, href)`;

export const postgresMigrations: readonly PostgresMigration[] = [
  {
    version: 1,
    description: "every table of the SQLite schema 3, keyed by repository",
    sql: `
CREATE TABLE repositories (
  id BIGSERIAL PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  created_at BIGINT NOT NULL DEFAULT 0,
  properties TEXT,
  deleting BOOLEAN NOT NULL DEFAULT false,
  fence BIGINT NOT NULL DEFAULT 0,
  applied_seq BIGINT NOT NULL DEFAULT 0,
  published_seq BIGINT NOT NULL DEFAULT 0,
  dirty BOOLEAN NOT NULL DEFAULT true,
  revision BIGINT NOT NULL DEFAULT 0,
  repomd TEXT,
  repomd_asc TEXT,
  syncing BOOLEAN NOT NULL DEFAULT false,
  start_time BIGINT NOT NULL DEFAULT 0,
  end_time BIGINT NOT NULL DEFAULT 0,
  total_packages BIGINT NOT NULL DEFAULT 0,
  synced_packages BIGINT NOT NULL DEFAULT 0,
  sync_error TEXT NOT NULL DEFAULT '',
  phase TEXT NOT NULL DEFAULT '',
  downloaded_bytes BIGINT NOT NULL DEFAULT 0,
  downloaded_packages BIGINT NOT NULL DEFAULT 0,
  registry_generation BIGINT NOT NULL DEFAULT 1,
  registry_replicated BIGINT NOT NULL DEFAULT 0,
  registry_error TEXT NOT NULL DEFAULT ''
);
CREATE TABLE events (
  seq BIGSERIAL PRIMARY KEY,
  repo_id BIGINT NOT NULL REFERENCES repositories (id) ON DELETE CASCADE,
  payload TEXT NOT NULL,
  created_at BIGINT NOT NULL
);
CREATE INDEX events_repo ON events (repo_id, seq);
CREATE TABLE event_failures (
  repo_id BIGINT NOT NULL REFERENCES repositories (id) ON DELETE CASCADE,
  seq BIGINT NOT NULL,
  message TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  PRIMARY KEY (repo_id, seq)
);
CREATE TABLE packages (${packageColumns});
CREATE INDEX packages_tag ON packages (repo_id, tag);
CREATE INDEX packages_id ON packages (repo_id, id);
CREATE INDEX packages_file_name ON packages (repo_id, file_name);
CREATE INDEX packages_href_tag ON packages (repo_id, href, tag);
CREATE TABLE staged_packages (${packageColumns});
CREATE TABLE retired_packages (
  repo_id BIGINT NOT NULL REFERENCES repositories (id) ON DELETE CASCADE,
  file_name TEXT NOT NULL,
  id TEXT NOT NULL,
  href TEXT,
  retired_at BIGINT NOT NULL
);
CREATE INDEX retired_packages_file_name ON retired_packages (repo_id, file_name);
CREATE INDEX retired_packages_href ON retired_packages (repo_id, href);
CREATE TABLE extra_metadata (
  repo_id BIGINT NOT NULL REFERENCES repositories (id) ON DELETE CASCADE,
  data_type TEXT NOT NULL,
  digest TEXT NOT NULL,
  record TEXT NOT NULL,
  PRIMARY KEY (repo_id, data_type)
);
CREATE TABLE retired_repomd (
  n BIGSERIAL PRIMARY KEY,
  repo_id BIGINT NOT NULL REFERENCES repositories (id) ON DELETE CASCADE,
  retired_at BIGINT NOT NULL,
  repomd TEXT NOT NULL
);
CREATE INDEX retired_repomd_at ON retired_repomd (repo_id, retired_at);
CREATE TABLE logs (
  id BIGSERIAL PRIMARY KEY,
  repo_id BIGINT NOT NULL REFERENCES repositories (id) ON DELETE CASCADE,
  level TEXT NOT NULL,
  date BIGINT NOT NULL,
  message TEXT NOT NULL
);
CREATE INDEX logs_repo ON logs (repo_id, id);
CREATE TABLE registry_manifests (
  repo_id BIGINT NOT NULL REFERENCES repositories (id) ON DELETE CASCADE,
  kind TEXT NOT NULL,
  tag TEXT NOT NULL,
  layer_digest TEXT NOT NULL,
  manifest_digest TEXT NOT NULL,
  PRIMARY KEY (repo_id, kind, tag)
);
CREATE INDEX registry_manifests_digest ON registry_manifests (repo_id, kind, manifest_digest);
`,
  },
  {
    version: 2,
    description:
      "stats (SQLite schema 4): totals of syncs and publishes, the last good sync, for /metrics (durable, so they survive restarts)",
    // Columns of the repository's row: endSync and recordPublish update them in the statement (and
    // under the row lock) that already writes the state they count.
    sql: `
ALTER TABLE repositories
  ADD COLUMN syncs BIGINT NOT NULL DEFAULT 0,
  ADD COLUMN sync_failures BIGINT NOT NULL DEFAULT 0,
  ADD COLUMN sync_ms_total BIGINT NOT NULL DEFAULT 0,
  ADD COLUMN last_sync_ms BIGINT NOT NULL DEFAULT 0,
  ADD COLUMN last_good_sync_end BIGINT NOT NULL DEFAULT 0,
  ADD COLUMN last_good_sync_packages BIGINT NOT NULL DEFAULT 0,
  ADD COLUMN sync_bytes_total BIGINT NOT NULL DEFAULT 0,
  ADD COLUMN sync_packages_total BIGINT NOT NULL DEFAULT 0,
  ADD COLUMN publishes BIGINT NOT NULL DEFAULT 0,
  ADD COLUMN publish_ms_total BIGINT NOT NULL DEFAULT 0,
  ADD COLUMN last_publish_ms BIGINT NOT NULL DEFAULT 0,
  ADD COLUMN last_publish_time BIGINT NOT NULL DEFAULT 0;
`,
  },
  {
    version: 3,
    description:
      "registry tombstones of deleted repositories (the manifests to delete from the registry), shared by every node instead of kept on the datadir of the API that deleted",
    // Not keyed by repositories.id: the repository's row is gone (and its name may be taken again).
    sql: `
CREATE TABLE registry_tombstones (
  name TEXT PRIMARY KEY,
  manifests TEXT NOT NULL
);
`,
  },
  {
    version: 4,
    description:
      "the package count and a change counter kept in the repository's row (no COUNT(*) per upload; the content cache's exact change token), lookups indexed with their order",
    // Kept by triggers, so no write path can forget them. The count moves per statement (transition
    // tables), not per row: a mirror generation of 20,000 rows updates the repository's row once. Every
    // update of that row bumps `changes`, and every transaction that changes served content (a
    // publish, an applied event, a mirror switch, a deletion mark) updates it, as SQLite's
    // data_version moves with every commit.
    sql: `
ALTER TABLE repositories
  ADD COLUMN package_count BIGINT NOT NULL DEFAULT 0,
  ADD COLUMN changes BIGINT NOT NULL DEFAULT 0;
UPDATE repositories r SET package_count = (SELECT count(*) FROM packages p WHERE p.repo_id = r.id);
CREATE FUNCTION repositories_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.changes := OLD.changes + 1;
  RETURN NEW;
END $$;
CREATE TRIGGER repositories_changed BEFORE UPDATE ON repositories
  FOR EACH ROW EXECUTE FUNCTION repositories_changed();
CREATE FUNCTION packages_added() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE repositories r SET package_count = r.package_count + d.n
  FROM (SELECT repo_id, count(*) AS n FROM added GROUP BY repo_id) d WHERE r.id = d.repo_id;
  RETURN NULL;
END $$;
CREATE FUNCTION packages_removed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE repositories r SET package_count = r.package_count - d.n
  FROM (SELECT repo_id, count(*) AS n FROM removed GROUP BY repo_id) d WHERE r.id = d.repo_id;
  RETURN NULL;
END $$;
CREATE TRIGGER packages_added AFTER INSERT ON packages REFERENCING NEW TABLE AS added
  FOR EACH STATEMENT EXECUTE FUNCTION packages_added();
CREATE TRIGGER packages_removed AFTER DELETE ON packages REFERENCING OLD TABLE AS removed
  FOR EACH STATEMENT EXECUTE FUNCTION packages_removed();
-- A lookup by tag, id or file name takes the first row by href: with href in the index it reads one
-- entry, where (repo_id, tag) let the planner walk the whole repository in href order instead.
DROP INDEX packages_tag;
DROP INDEX packages_id;
DROP INDEX packages_file_name;
CREATE INDEX packages_tag ON packages (repo_id, tag, href);
CREATE INDEX packages_id ON packages (repo_id, id, href);
CREATE INDEX packages_file_name ON packages (repo_id, file_name, href);
`,
  },
];

export const POSTGRES_SCHEMA_VERSION = postgresMigrations.at(-1)!.version;

/** The advisory lock key of the migration ("beskaryu" in ASCII): one process migrates at a time. */
const migrationLock = 0x6265736b61727975n;

/**
 * Brings the database to `POSTGRES_SCHEMA_VERSION`. Processes starting at once take turns on an
 * advisory lock (the version is read under it), so one migrates and the others find it done.
 * Refuses a database newer than this build knows. @returns the version it had before
 */
export async function migratePostgres(pool: Pool): Promise<number> {
  const client = await pool.connect();
  try {
    await client.query("SELECT pg_advisory_lock($1)", [migrationLock.toString()]);
    try {
      await client.query("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)");
      const row = (await client.query<{ version: number }>("SELECT version FROM schema_version")).rows[0];
      const before = row?.version ?? 0;
      if (before > POSTGRES_SCHEMA_VERSION) {
        throw new YumError(
          "STORAGE_VERSION_UNSUPPORTED",
          `the PostgreSQL index has schema version ${before}, newer than this build knows (${POSTGRES_SCHEMA_VERSION}): it was written by a newer beskar-yum; upgrade`,
          { version: before, supported: POSTGRES_SCHEMA_VERSION },
        );
      }
      if (before === POSTGRES_SCHEMA_VERSION) return before;
      await client.query("BEGIN");
      try {
        for (const step of postgresMigrations) {
          if (step.version > before) await client.query(step.sql);
        }
        await client.query("DELETE FROM schema_version");
        await client.query("INSERT INTO schema_version (version) VALUES ($1)", [POSTGRES_SCHEMA_VERSION]);
        await client.query("COMMIT");
      } catch (err) {
        await client.query("ROLLBACK");
        throw err;
      }
      return before;
    } finally {
      await client.query("SELECT pg_advisory_unlock($1)", [migrationLock.toString()]);
    }
  } finally {
    client.release();
  }
}
