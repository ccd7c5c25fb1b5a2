import { YumError } from "@beskar-yum/errors";
import type Database from "better-sqlite3";

/**
 * The index schema, versioned with `PRAGMA user_version`. Every `index.db` ever written is at one of
 * these versions; version 0 is an index written before versions existed (any of the unversioned
 * schemas shipped, the first of which had no `repomd_asc` column, no extra metadata, sync state,
 * retired rows, staged rows or registry tables). Migrations run at open, in order, in one
 * transaction; an index newer than this build knows is refused (it would be misread).
 *
 * To change the schema: append a step (never edit a shipped one), and test it from version 0.
 */
export interface Migration {
  version: number;
  description: string;
  up(db: Database.Database): void;
}

/** Every table of version 1, written so that it also completes any unversioned schema (CREATE IF NOT EXISTS). */
const baseline = `
CREATE TABLE IF NOT EXISTS repository (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  created_at INTEGER NOT NULL,
  properties TEXT NOT NULL,
  deleting INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS state (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  fence INTEGER NOT NULL DEFAULT 0,
  applied_seq INTEGER NOT NULL DEFAULT 0,
  published_seq INTEGER NOT NULL DEFAULT 0,
  dirty INTEGER NOT NULL DEFAULT 1,
  revision INTEGER NOT NULL DEFAULT 0,
  repomd TEXT,
  repomd_asc TEXT
);
INSERT OR IGNORE INTO state (id) VALUES (1);
CREATE TABLE IF NOT EXISTS events (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  payload TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS event_failures (
  seq INTEGER PRIMARY KEY,
  message TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS packages (
  tag TEXT PRIMARY KEY,
  id TEXT NOT NULL,
  file_name TEXT NOT NULL,
  href TEXT NOT NULL,
  meta TEXT NOT NULL,
  primary_xml TEXT NOT NULL,
  filelists_xml TEXT NOT NULL,
  other_xml TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS packages_id ON packages (id);
CREATE INDEX IF NOT EXISTS packages_file_name ON packages (file_name);
CREATE INDEX IF NOT EXISTS packages_href ON packages (href);
CREATE TABLE IF NOT EXISTS staged_packages (
  tag TEXT PRIMARY KEY,
  id TEXT NOT NULL,
  file_name TEXT NOT NULL,
  href TEXT NOT NULL,
  meta TEXT NOT NULL,
  primary_xml TEXT NOT NULL,
  filelists_xml TEXT NOT NULL,
  other_xml TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS retired_packages (
  file_name TEXT NOT NULL,
  id TEXT NOT NULL,
  retired_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS retired_packages_file_name ON retired_packages (file_name);
CREATE TABLE IF NOT EXISTS extra_metadata (
  data_type TEXT PRIMARY KEY,
  digest TEXT NOT NULL,
  record TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS sync_state (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  syncing INTEGER NOT NULL DEFAULT 0,
  start_time INTEGER NOT NULL DEFAULT 0,
  end_time INTEGER NOT NULL DEFAULT 0,
  total_packages INTEGER NOT NULL DEFAULT 0,
  synced_packages INTEGER NOT NULL DEFAULT 0,
  sync_error TEXT NOT NULL DEFAULT '',
  phase TEXT NOT NULL DEFAULT '',
  downloaded_bytes INTEGER NOT NULL DEFAULT 0,
  downloaded_packages INTEGER NOT NULL DEFAULT 0
);
INSERT OR IGNORE INTO sync_state (id) VALUES (1);
CREATE TABLE IF NOT EXISTS retired_repomd (
  retired_at INTEGER NOT NULL,
  repomd TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS retired_repomd_at ON retired_repomd (retired_at);
CREATE TABLE IF NOT EXISTS logs (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  level TEXT NOT NULL,
  date INTEGER NOT NULL,
  message TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS registry_manifests (
  kind TEXT NOT NULL,
  tag TEXT NOT NULL,
  layer_digest TEXT NOT NULL,
  manifest_digest TEXT NOT NULL,
  PRIMARY KEY (kind, tag)
);
CREATE INDEX IF NOT EXISTS registry_manifests_digest ON registry_manifests (kind, manifest_digest);
CREATE TABLE IF NOT EXISTS registry_state (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  generation INTEGER NOT NULL DEFAULT 1,
  replicated INTEGER NOT NULL DEFAULT 0,
  error TEXT NOT NULL DEFAULT ''
);
INSERT OR IGNORE INTO registry_state (id) VALUES (1);
`;

function columns(db: Database.Database, table: string): Set<string> {
  return new Set((db.pragma(`table_info(${table})`) as { name: string }[]).map((c) => c.name));
}

/** The ordered steps; `version` is the schema version after the step. */
export const migrations: readonly Migration[] = [
  {
    version: 1,
    description: "baseline: every table of the unversioned schemas, and state.repomd_asc (added later)",
    up(db) {
      // A `state` table of the first schema lacks repomd_asc: CREATE IF NOT EXISTS would keep it so.
      if (db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'state'").get()) {
        if (!columns(db, "state").has("repomd_asc")) db.exec("ALTER TABLE state ADD COLUMN repomd_asc TEXT");
      }
      db.exec(baseline);
    },
  },
  {
    version: 2,
    description: "packages listed by (href, tag): keyset pagination of package:list",
    up(db) {
      db.exec(`
        CREATE INDEX IF NOT EXISTS packages_href_tag ON packages (href, tag);
        DROP INDEX IF EXISTS packages_href;
      `);
    },
  },
  {
    version: 3,
    description:
      "packages keyed by href, not tag: a mirror keeps two packages of one file name (one tag) in two folders; retired rows remember their href",
    up(db) {
      const packageColumns = `
  tag TEXT NOT NULL,
  id TEXT NOT NULL,
  file_name TEXT NOT NULL,
  href TEXT PRIMARY KEY,
  meta TEXT NOT NULL,
  primary_xml TEXT NOT NULL,
  filelists_xml TEXT NOT NULL,
  other_xml TEXT NOT NULL`;
      const all = "tag, id, file_name, href, meta, primary_xml, filelists_xml, other_xml";
      db.exec(`
        CREATE TABLE packages_by_href (${packageColumns});
        INSERT OR IGNORE INTO packages_by_href (${all}) SELECT ${all} FROM packages ORDER BY rowid;
        DROP TABLE packages;
        ALTER TABLE packages_by_href RENAME TO packages;
        CREATE INDEX packages_tag ON packages (tag);
        CREATE INDEX packages_id ON packages (id);
        CREATE INDEX packages_file_name ON packages (file_name);
        CREATE INDEX packages_href_tag ON packages (href, tag);
        CREATE TABLE staged_packages_by_href (${packageColumns});
        INSERT OR IGNORE INTO staged_packages_by_href (${all}) SELECT ${all} FROM staged_packages ORDER BY rowid;
        DROP TABLE staged_packages;
        ALTER TABLE staged_packages_by_href RENAME TO staged_packages;
      `);
      if (!columns(db, "retired_packages").has("href")) {
        db.exec("ALTER TABLE retired_packages ADD COLUMN href TEXT");
      }
      db.exec("CREATE INDEX IF NOT EXISTS retired_packages_href ON retired_packages (href)");
    },
  },
  {
    version: 4,
    description:
      "stats: totals of syncs and publishes, the last good sync, for /metrics (durable, so they survive restarts)",
    up(db) {
      db.exec(`
        CREATE TABLE IF NOT EXISTS stats (
          id INTEGER PRIMARY KEY CHECK (id = 1),
          syncs INTEGER NOT NULL DEFAULT 0,
          sync_failures INTEGER NOT NULL DEFAULT 0,
          sync_ms_total INTEGER NOT NULL DEFAULT 0,
          last_sync_ms INTEGER NOT NULL DEFAULT 0,
          last_good_sync_end INTEGER NOT NULL DEFAULT 0,
          last_good_sync_packages INTEGER NOT NULL DEFAULT 0,
          sync_bytes_total INTEGER NOT NULL DEFAULT 0,
          sync_packages_total INTEGER NOT NULL DEFAULT 0,
          publishes INTEGER NOT NULL DEFAULT 0,
          publish_ms_total INTEGER NOT NULL DEFAULT 0,
          last_publish_ms INTEGER NOT NULL DEFAULT 0,
          last_publish_time INTEGER NOT NULL DEFAULT 0
        );
        INSERT OR IGNORE INTO stats (id) VALUES (1);
      `);
    },
  },
];

export const SCHEMA_VERSION = migrations.at(-1)!.version;

/**
 * Brings the index at `path` to `SCHEMA_VERSION` (one IMMEDIATE transaction: the API and workers may
 * open the same file at once; the version is read again inside it). Refuses a newer index.
 * @returns the version the index had before
 */
export function migrate(db: Database.Database, path: string): number {
  const current = () => Number(db.pragma("user_version", { simple: true }));
  const refuseNewer = (version: number) => {
    if (version > SCHEMA_VERSION) {
      throw new YumError(
        "STORAGE_VERSION_UNSUPPORTED",
        `repository index ${path} has schema version ${version}, newer than this build knows (${SCHEMA_VERSION}): it was written by a newer beskar-yum; upgrade, or restore a backup`,
        { path, version, supported: SCHEMA_VERSION },
      );
    }
  };
  const before = current();
  refuseNewer(before);
  if (before === SCHEMA_VERSION) return before;
  db.transaction(() => {
    const version = current();
    refuseNewer(version);
    for (const step of migrations) {
      if (step.version <= version) continue;
      step.up(db);
      db.pragma(`user_version = ${step.version}`);
    }
  }).immediate();
  return before;
}
